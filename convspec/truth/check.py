"""Assertion helpers shared by every property.

A property signals a violated equality by raising :class:`Mismatch`; an implementation that breaks
the contract itself (raises, hangs, wrong shape/dtype, NaN, writes into or aliases its inputs) raises
:class:`ContractViolation`.  The two are kept apart because a *refuted* claim is confirmed by a
Mismatch, never by a crash.

Every numeric comparison goes through :func:`close`, which records the observed/allowed error ratio
(for reports) and feeds it to ``hypothesis.target`` under one stable label per comparison site
(:func:`target_label`), so that the search pushes on the worst ratio.
"""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass, field

import numpy as np
from hypothesis import currently_in_test_context, target
from hypothesis.errors import InvalidArgument

from convspec.errors import Mismatch
from convspec.truth.tolerance import Comparison, compare


@dataclass
class Recorder:
    """Collects the worst error ratio seen while a claim runs (one per engine run)."""

    worst: float = 0.0
    where: str = ""
    compared: int = 0
    labels: list = field(default_factory=list)

    def add(self, label: str, c: Comparison):
        self.compared += 1
        if c.ratio > self.worst or (not self.where and c.ratio >= self.worst):
            self.worst, self.where = c.ratio, label


_recorder: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("convspec_recorder", default=None)


def recording(rec: Recorder):
    """Context manager-ish token setter: ``tok = recording(rec); ...; _recorder.reset(tok)``."""
    return _recorder.set(rec)


def stop_recording(token):
    _recorder.reset(token)


_INDEX = re.compile(r"\[[-\d\s,:+]*\]|\(columns \[[^\]]*\]\)")
TARGET_CAP = 1e6        # the score of an error where none is allowed (inf ratio); target() needs finite numbers


def target_label(what: str) -> str:
    """The stable ``target()`` label of a comparison: its description with element indices removed
    (``"conv2d[0, 1, 2, 3] vs field"`` -> ``"error/allowed: conv2d[i] vs field"``), so that each comparison
    site is one label from case to case, however many elements it compares."""
    return "error/allowed: " + _INDEX.sub("[i]", what)


def _target(ratio: float, label: str):
    """Push the search towards larger error ratios (``hypothesis.target``, public API only).

    Hypothesis accepts each label once per test case and says so with ``InvalidArgument``: a comparison
    site called in a loop keeps the observation of its first call in that case."""
    if not currently_in_test_context():
        return
    score = min(float(ratio), TARGET_CAP) if np.isfinite(ratio) else TARGET_CAP
    try:
        target(score, label=target_label(label))
    except InvalidArgument:
        pass


def close(observed, expected, allowed, what: str, sides: dict | None = None) -> Comparison:
    """Require |observed - expected| <= allowed elementwise; raise Mismatch with the worst element."""
    __tracebackhide__ = True
    obs, exp = np.asarray(observed), np.asarray(expected)
    if obs.shape != exp.shape:
        raise Mismatch(f"{what}: shape {obs.shape} != {exp.shape}",
                       sides=sides or {"observed": obs, "expected": exp})
    c = compare(obs, exp, allowed)
    rec = _recorder.get()
    if rec is not None:
        rec.add(what, c)
    if np.any(np.asarray(allowed) > 0):   # exact comparisons (allowed 0: ratio 0 or inf) give nothing to climb
        _target(c.ratio, what)
    if not c.ok:
        raise Mismatch(f"{what}: {c.describe()}", c, sides or {"observed": obs, "expected": exp})
    return c


def equal(observed, expected, what: str, sides: dict | None = None) -> Comparison:
    """Bit-exact equality (allowed error 0), with the same reporting as :func:`close`."""
    __tracebackhide__ = True
    return close(observed, expected, 0.0, what, sides)


def holds(condition: bool, message: str, sides: dict | None = None):
    """Require a non-numeric condition (shape, dtype, raises, ...)."""
    __tracebackhide__ = True
    if not condition:
        raise Mismatch(message, sides=sides)
