"""Probing: what an implementation does not declare, the gate asks it.

A module that declares nothing is held to the whole contract.  For every capability key it leaves out of
``CAPABILITIES`` (:data:`PROBED`), :func:`probe` calls one of its ops on a tiny problem that needs the
capability (each dtype of each op kind's domain, groups, stride, dilation, padding, bias, (before, after)
padding pairs, padding='same'/'valid', each padding_mode) and sets the capability from the answer:

* a result (of any value, shape or dtype: the claims judge it) or a crash, hang or contract violation of any
  other kind -> **accepted**: the capability is on, and the implementation is held to it;
* an exception raised by the implementation (``TypeError``, ``ValueError``, ``NotImplementedError``, ...)
  -> **rejected**: the capability is off, and the claims that need it skip with the reason
  ``probed: raised TypeError: ...``.

What cannot be asked by a call is not probed and keeps the contract's own reading: the layouts (channels
first, OIHW weights), the accumulator of half-precision data (fp32), the accuracy class (direct: the
elementwise bound), the reading of zero weights (multiplied: 0 x NaN is NaN) and determinism.  The
:class:`Profile` (declared, probed, rejected, declined) is printed
in the pytest header and written to the JSON report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from convspec.errors import Abort, ContractViolation, Declined, fault_of
from convspec.model.case import Case, cast
from convspec.model.contract import _args as contract_args
from convspec.model.ops import CONV_OPS, FAMILY, KIND_DTYPES, SIGNAL_OPS, op_kind, op_rank
from convspec.model.problem import Problem, SignalProblem, TransposeProblem

#: the capability keys probing decides (the rest keep the contract's default reading)
PROBED = ("dtypes", "groups", "max_stride", "max_dilation", "padding", "bias", "padding_pairs", "padding_strings",
          "padding_modes")
PROBE_TIMEOUT = 20.0
_RAISED = re.compile(r" raised (\w[\w.]*): (.*?)(?: \(on (?:valid input )?\S+\))?$", re.S)


@dataclass
class Profile:
    """The resolved capability profile of an implementation: what it ``declared``, what probing found
    (``probed``: key -> value), why a probed capability is off (``rejected``: key -> reason), and the
    problems it declined at run time (``declined``: descriptor -> message, the smallest per op)."""

    declared: dict = field(default_factory=dict)
    probed: dict = field(default_factory=dict)
    rejected: dict = field(default_factory=dict)
    declined: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The profile for the pytest header and the summary, one line per part."""
        out = ["declared: " + (", ".join(f"{k}={_fmt(v)}" for k, v in sorted(self.declared.items())) or "nothing")]
        if self.probed:
            out.append("probed and found: " + ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(self.probed.items())))
        for k, why in sorted(self.rejected.items()):
            out.append(f"probed, off: {k}: {why}")
        for desc, why in sorted(self.declined.items()):
            out.append(f"declined (not covered): {desc}: {why}")
        return out

    def to_dict(self) -> dict:
        return {"declared": {k: _jsonable(v) for k, v in self.declared.items()},
                "probed": {k: _jsonable(v) for k, v in self.probed.items()},
                "rejected": dict(self.rejected), "declined": dict(self.declined)}


def _fmt(v) -> str:
    if isinstance(v, (tuple, list)):
        return "(" + ",".join(map(str, v)) + ")"
    return "any" if v is None else str(v)


def _jsonable(v):
    return list(v) if isinstance(v, tuple) else v


# -- the tiny problems -----------------------------------------------------------------------------

def _conv_problem(rank: int, dtype: str = "f64", **kw) -> Problem:
    base = dict(n=1, c=1, o=1, spatial=(4,) * rank, kernel=(2,) * rank, stride=(1,) * rank,
                pads=((0, 0),) * rank, dilation=(1,) * rank, g=1, bias=False, dtype=dtype, regime="int")
    base.update(kw)
    return Problem(**base)


def _transpose_problem(rank: int, dtype: str = "f64", **kw) -> TransposeProblem:
    base = dict(n=1, c=1, o=1, spatial=(3,) * rank, kernel=(2,) * rank, stride=(1,) * rank,
                pads=((0, 0),) * rank, dilation=(1,) * rank, g=1, bias=False, dtype=dtype, regime="int",
                out_pad=(0,) * rank)
    base.update(kw)
    return TransposeProblem(**base)


def _case(op: str, dtype: str = "f64", **kw) -> Case:
    kind = op_kind(op)
    if kind == "signal":
        return Case.seeded(SignalProblem(a=(4, 4), k=(2, 2), mode="full", dtype=dtype, regime="int"), 1)
    rank = op_rank(op)
    if kind == "conv":
        return Case.seeded(_conv_problem(rank, dtype, **kw), 1)
    kw.pop("bias", None) if kind in ("input", "weight") else None
    case = Case.seeded(_transpose_problem(rank, dtype, **kw), 1)
    if kind == "weight":          # the weight gradient also takes the forward input (N, O, L'...)
        shape = case.problem.y_shape
        case.arrays["xf"] = cast(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) % 5 - 2, dtype)
    return case


def _outcome(be, op: str, case, kwargs=None, expect=None) -> str | None:
    """None if ``be`` accepts the call (returns, or fails in any way other than raising or declining), else the
    reason.  A crash, a hang or a wrong result is accepted: the claims will show it."""
    try:
        be.call(op, case, kwargs=kwargs, expect=expect, args=None if kwargs is None else _args(op, case))
    except (Declined, ContractViolation, Abort) as e:
        fault = fault_of(e)
        if fault == "declined":
            return f"probed: {str(e).split(': ', 1)[-1]}"
        if fault == "raised" and e.exception != "ContractViolation":
            m = _RAISED.search(str(e))
            return f"probed: raised {e.exception}: {m.group(2).strip()[:160] if m else ''}"
    return None


def _args(op, case):
    return contract_args(op, case)[0]


def _first(provided, ops):
    return next((op for op in ops if op in provided), None)


def _dtype_probes(be, provided):
    """Per op kind the backend provides: the dtypes of the kind's domain it accepts, and why others are off."""
    kinds = {}
    for op in sorted(provided, key=lambda o: (op_kind(o), o)):
        kinds.setdefault(op_kind(op), op)
    accepted, rejected = {}, {}
    for kind, op in kinds.items():
        ok = []
        for dt in KIND_DTYPES[kind]:
            why = _outcome(be, op, _case(op, dt))
            if why is None:
                ok.append(dt)
            else:
                rejected[f"dtypes[{kind}]:{dt}"] = f"{op}: {why}"
        accepted[kind] = tuple(ok)
    return accepted, rejected


def _feature_probes(be, provided):
    """(capability -> value, capability -> reason) for the features of the conv family."""
    op = _first(provided, CONV_OPS) or _first(provided, FAMILY)
    found, why = {}, {}
    if op is None:
        return found, why
    rank = op_rank(op)
    is_conv = op in CONV_OPS
    feats = {
        "groups": (dict(c=2, o=2, g=2), True, False),
        "max_stride": (dict(stride=(2,) * rank), None, 1),
        "max_dilation": (dict(dilation=(2,) * rank), None, 1),
        "padding": (dict(pads=((1, 1),) * rank), True, False),
    }
    if op_kind(op) not in ("input", "weight"):
        feats["bias"] = (dict(bias=True), True, False)
    for key, (kw, on, off) in feats.items():
        r = _outcome(be, op, _case(op, **kw))
        found[key] = on if r is None else off
        if r is not None:
            why[key] = f"{op}: {r}"
    if not is_conv:
        return found, why
    # forward convs only: (before, after) pairs, padding strings, padding modes
    r = _outcome(be, op, _case(op, pads=((0, 1),) * rank))
    found["padding_pairs"] = r is None
    if r is not None:
        why["padding_pairs"] = f"{op}: {r}"
    case = _case(op)
    p = case.problem
    strings = True
    for word in ("valid", "same"):
        shape = p.y_shape if word == "valid" else (p.n, p.o) + tuple(p.spatial)
        kwargs = dict(p.kwargs(), padding=word)
        r = _outcome(be, op, case, kwargs=kwargs, expect=(shape, np.asarray(case.x).dtype))
        if r is not None:
            strings = False
            why["padding_strings"] = f"{op}(padding={word!r}): {r}"
            break
    found["padding_strings"] = strings
    modes = ["zeros"]
    pcase = _case(op, pads=((1, 1),) * rank)
    for mode in ("reflect", "replicate", "circular"):
        kwargs = dict(pcase.problem.kwargs(), padding_mode=mode)
        r = _outcome(be, op, pcase, kwargs=kwargs)
        if r is None:
            modes.append(mode)
        else:
            why[f"padding_modes:{mode}"] = f"{op}(padding_mode={mode!r}): {r}"
    found["padding_modes"] = tuple(modes)
    return found, why


def probe(be):
    """Probe the capabilities ``be`` did not declare (``be.caps.declared``: the keys of its CAPABILITIES;
    None for a built-in backend, which declares everything and is not probed).  Sets ``be.caps`` to the
    resolved capabilities and ``be.profile`` to the :class:`Profile`; returns ``be``."""
    declared = be.caps.declared
    if declared is None:
        return be
    profile = Profile(declared={k: getattr(be.caps, k) for k in declared})
    todo = [k for k in PROBED if k not in declared]
    provided = [op for op in be.provides if op in CONV_OPS + FAMILY + SIGNAL_OPS]
    caps = be.caps
    probing = replace(caps, timeout=min(caps.timeout, PROBE_TIMEOUT), padding_pairs=True, padding_strings=True,
                      padding_modes=("zeros", "reflect", "replicate", "circular"), groups=True, padding=True,
                      bias=True, max_stride=None, max_dilation=None)
    new = {}
    be.caps = probing          # every feature on while probing (restored below)
    try:
        if "dtypes" in todo:
            per_kind, rejected = _dtype_probes(be, provided)
            profile.rejected.update(rejected)
            new["kind_dtypes"] = tuple(sorted(per_kind.items()))
            new["dtypes"] = tuple(dict.fromkeys(d for ds in per_kind.values() for d in ds)) or caps.dtypes
            profile.probed["dtypes"] = {k: list(v) for k, v in sorted(per_kind.items())}
        feats, why = _feature_probes(be, provided)
    finally:
        be.caps = caps
    for k in todo:
        if k in feats:
            new[k] = feats[k]
            profile.probed[k] = feats[k]
    for k, reason in why.items():
        if k.split(":")[0] in todo:
            profile.rejected[k] = reason
    be.caps = replace(caps, **new)
    be.profile = profile
    return be
