"""The claims registry: one entry per claim, written once, run by the tests, the gate and the audit.

A claim has a stable ``id``, a one-line paraphrase (``statement``), a ``source`` (seed file and post
id, or an upstream issue), the ops it ``needs`` from a backend, the capabilities it ``requires``,
its ``expected`` verdict and the property itself:

* ``holds``       -- the property must survive the search over ``cases``;
* ``refuted``     -- the search over ``cases`` must find (and shrink) a counterexample;
* ``conditional`` -- holds on ``cases`` (the domain where ``condition`` is true) and is refuted on
  ``outside`` (its complement): both searches run.

Refutations are searched in the exact (small-integer) regime wherever the claim allows it, so that a
counterexample is a bit-exact difference, never an artefact of rounding.

A property is a plain function ``check(backend, case)`` that returns, or raises
:class:`specs.check.Mismatch` with a precise message.  It knows nothing about pytest or reports.

Users add claims with the same decorator from a module passed with ``--claims-module``::

    from specs.claims import claim, HOLDS
    from specs import strategies as st_, check

    @claim(id="user-zero-kernel", statement="A zero kernel gives a zero output", source="me",
           needs={"conv2d"}, expected=HOLDS, cases=st_.conv())
    def _(be, case):
        check.equal(be.call("conv2d", case, args=(case.x, 0 * case.w), kwargs=case.problem.kwargs()),
                    0 * be.call("conv2d", case), "conv2d(x, 0)")
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import Callable

HOLDS, REFUTED, CONDITIONAL = "holds", "refuted", "conditional"
GROUP_ORDER = ("seed", "numpy", "scipy", "torch", "cuda", "user")


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    source: str
    needs: frozenset
    expected: str
    check: Callable
    cases: Callable
    outside: Callable | None = None
    condition: str = ""
    group: str = "seed"
    requires: frozenset = frozenset()
    examples: tuple = ()
    budget: float = 1.0
    version_note: str = ""
    suppress: tuple = ()

    def describe_expected(self) -> str:
        if self.expected == CONDITIONAL:
            return f"holds only if {self.condition}"
        return self.expected


REGISTRY: dict[str, Claim] = {}


def claim(*, id: str, statement: str, source: str, needs, expected: str, cases, outside=None, condition="",
          group: str = "seed", requires=(), examples=(), budget: float = 1.0, version_note: str = "",
          suppress=()):
    """Register the decorated ``check(backend, case)`` as a claim; returns the Claim."""
    if expected not in (HOLDS, REFUTED, CONDITIONAL):
        raise ValueError(f"claim {id}: expected must be holds/refuted/conditional, not {expected!r}")
    if expected == CONDITIONAL and (outside is None or not condition):
        raise ValueError(f"claim {id}: a conditional claim needs `outside` cases and a `condition`")

    def deco(fn):
        c = Claim(id=id, statement=statement, source=source, needs=frozenset(needs), expected=expected, check=fn,
                  cases=cases, outside=outside, condition=condition, group=group, requires=frozenset(requires),
                  examples=tuple(examples), budget=budget, version_note=version_note, suppress=tuple(suppress))
        if id in REGISTRY and REGISTRY[id].check.__code__ is not fn.__code__:
            raise ValueError(f"duplicate claim id {id!r}")
        REGISTRY[id] = c
        return c
    return deco


_LOADED = False


def load_builtin():
    global _LOADED
    if not _LOADED:
        from . import cuda, library, seed  # noqa: F401
        _LOADED = True


def load_module(target: str):
    """Import a user claims module (dotted name or .py path); its @claim decorators register it."""
    if target.endswith(".py") or os.path.sep in target:
        path = os.path.abspath(target)
        name = "convspec_claims_" + os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or not os.path.exists(path):
            raise ImportError(f"--claims-module {target}: no such file")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    else:
        importlib.import_module(target)


def all_claims(pattern: str | None = None) -> list[Claim]:
    """Registered claims in report order (seed first, then by library group); ``pattern`` is a
    comma-separated list of fnmatch globs on the id."""
    import fnmatch
    load_builtin()
    cs = list(REGISTRY.values())
    if pattern:
        pats = [p.strip() for p in pattern.split(",") if p.strip()]
        cs = [c for c in cs if any(fnmatch.fnmatch(c.id, p) for p in pats)]
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    return sorted(cs, key=lambda c: order.get(c.group, len(order)))  # stable: keeps definition order


def applicable(c: Claim, be) -> tuple[bool, str]:
    """Whether claim ``c`` applies to backend ``be``, and if not, why (a skip reason)."""
    if be.unavailable:
        return False, be.unavailable
    missing = sorted(c.needs - be.provides)
    if missing:
        return False, f"{be.name} does not provide {', '.join(missing)}"
    caps = be.caps
    checks = {
        "groups": caps.groups, "stride": caps.max_stride is None or caps.max_stride > 1,
        "dilation": caps.max_dilation is None or caps.max_dilation > 1,
        "padding": caps.padding, "bias": caps.bias, "deterministic": caps.deterministic,
    }
    for r in sorted(c.requires):
        if r.startswith("dtype:"):
            if r[6:] not in caps.dtypes:
                return False, f"{be.name} declares dtypes {', '.join(caps.dtypes)}, the claim needs {r[6:]}"
        elif r == "mode:native":
            if caps.mode is not None:
                return False, f"the claim is about native fp32 math, {be.name} runs accumulation mode {caps.mode}"
        elif r.startswith("mode:"):
            if caps.mode != r[5:]:
                return False, f"the claim is about accumulation mode {r[5:]}, {be.name} runs {caps.mode or 'native'}"
        elif r == "direct":
            if caps.accuracy != "direct":
                return False, f"{be.name} declares accuracy={caps.accuracy}; the claim needs a direct algorithm"
        elif not checks.get(r, True):
            return False, f"{be.name} declares no {r} support"
    return True, ""

