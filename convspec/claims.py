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
:class:`convspec.errors.Mismatch` with a precise message.  It knows nothing about pytest or reports.

Every built-in claim names its ``twin``: a deliberately wrong implementation the claim must reject (a
holds-claim finds a counterexample on it, a refuted claim finds none, a conditional claim sees its
condition broken), so that no property goes unshown to be able to fail.  The twin is the name of a module
of the self-tests' gallery (``tests/gallery/twins/NAME.py``, or an ``--impl`` module of
``tests/gallery/impls/``); ``tests/twins/test_twins.py`` runs each claim on its twin.  A user's claim may
leave it out.

Declarations fail loudly: an unknown ``needs`` op (see :data:`convspec.backends.base.OPS`), an unknown
``requires`` word (:data:`REQUIRES`), a bad ``expected``, a ``twin`` that is no module name or a ``cases``
that is neither a strategy nor a factory raises :class:`InvalidClaim` (a ``hypothesis.errors.InvalidArgument``)
naming the argument.
``cases``/``outside`` take a hypothesis strategy or a factory ``f(backend) -> strategy`` (for cases
that depend on the backend's capabilities).  A claim about GPU paths ``requires={"gpu"}``.

Every module of this package is a claims module: :func:`load_builtin` imports them all.

Users add claims with the same decorator from a module passed with ``--claims-module``::

    from convspec.claims import claim, HOLDS
    from convspec import strategies as st_, check

    @claim(id="user-zero-kernel", statement="A zero kernel gives a zero output", source="me",
           needs={"conv2d"}, expected=HOLDS, cases=st_.conv())
    def _(be, case):
        check.equal(be.call("conv2d", case, args=(case.x, 0 * case.w), kwargs=case.problem.kwargs()),
                    0 * be.call("conv2d", case), "conv2d(x, 0)")
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from dataclasses import dataclass
from typing import Callable

from hypothesis.strategies import SearchStrategy

import convspec.specs
from convspec.backends.base import OPS
from convspec.errors import InvalidClaim
from convspec.model.machine import condition_holds
from convspec.model.ops import CONTRACT, op_kind
from convspec.model.problem import DTYPES
from convspec.truth.tolerance import ACCUMULATIONS

HOLDS, REFUTED, CONDITIONAL = "holds", "refuted", "conditional"
GROUP_ORDER = ("seed", "numpy", "scipy", "torch", "cuda", "user")

#: the words ``requires`` accepts (plus ``dtype:<f64|f32|f16|bf16>`` and ``mode:<native|accumulation>``)
REQUIRES = {
    "groups": "grouped/depthwise conv supported", "stride": "a stride above 1 supported",
    "dilation": "a dilation above 1 supported", "padding": "nonzero padding supported",
    "bias": "bias supported", "deterministic": "reruns are bitwise equal",
    "direct": "a direct algorithm (accuracy='direct')", "gpu": "runs on a GPU (Capabilities.gpu)",
    "seams": "declared sizes reach the envelope's seams (max_size, if declared, at least 16)",
    "padding_strings": "conv2d accepts padding='valid'/'same' (Capabilities.padding_strings)",
    "padding_modes": "conv2d accepts a padding_mode besides zeros (Capabilities.padding_modes)",
    "padding_pairs": "the forward convs accept (before, after) padding pairs (Capabilities.padding_pairs)",
    "nchw": "the contract's own layouts: channels first, OIHW weights (claims that call a conv op raw, "
            "bypassing Backend.call and its layout maps, need it)",
    "nhwc": "channels-last activations (Capabilities.layout == 'NHWC')",
}


def _check_requires(cid: str, requires) -> frozenset:
    if isinstance(requires, str):
        raise InvalidClaim(f"claim {cid}: requires={requires!r} must be a set of words, not one string")
    words = frozenset(requires)
    for r in sorted(words):
        if r in REQUIRES:
            continue
        kind, _, arg = r.partition(":")
        if kind == "dtype" and arg in DTYPES:
            continue
        if kind == "mode" and (arg == "native" or arg in ACCUMULATIONS):
            continue
        raise InvalidClaim(f"claim {cid}: requires={{{r!r}}}: unknown word {r!r}; known: {', '.join(sorted(REQUIRES))}, "
                           f"dtype:<{'|'.join(DTYPES)}>, mode:<native|{'|'.join(ACCUMULATIONS)}>")
    return words


def _check_needs(cid: str, needs) -> frozenset:
    """The ops a claim calls, each one of :data:`convspec.backends.base.OPS` (a GPU is ``requires={"gpu"}``)."""
    if isinstance(needs, str):
        raise InvalidClaim(f"claim {cid}: needs={needs!r} must be a set of op names, not one string")
    ops = frozenset(needs)
    if not ops:
        raise InvalidClaim(f"claim {cid}: needs= is empty; name the ops the property calls")
    for op in sorted(ops):
        if op not in OPS:
            raise InvalidClaim(f"claim {cid}: needs={{{op!r}}}: unknown op {op!r}; known: {', '.join(sorted(OPS))} "
                               "(declare a library-specific op with convspec.backends.base.declare_op)")
    return ops


_MODULE_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


def _check_twin(cid: str, twin) -> str:
    """The name of the claim's wrong twin (a module name), or "" for none."""
    if twin is None:
        return ""
    if not isinstance(twin, str) or not _MODULE_NAME.match(twin):
        raise InvalidClaim(f"claim {cid}: twin={twin!r} must name the wrong implementation the claim rejects: a "
                           "module name of lowercase letters, digits and underscores (tests/gallery/twins/NAME.py)")
    return twin


def _factory(cid: str, name: str, value):
    """A strategy or a factory ``f(backend) -> strategy``, as a factory."""
    if value is None:
        return None
    if isinstance(value, SearchStrategy):
        return lambda be, _s=value: _s
    if callable(value):
        return value
    raise InvalidClaim(f"claim {cid}: {name}= must be a hypothesis strategy or a function backend -> strategy, "
                       f"not {type(value).__name__}")


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
    twin: str = ""                  # the wrong implementation the claim must reject (a gallery module's name)

    def describe_expected(self) -> str:
        if self.expected == CONDITIONAL:
            return f"holds only if {self.condition}"
        return self.expected


REGISTRY: dict[str, Claim] = {}


def ranked(cid: str, rank: int) -> str:
    """The id of a claim's ``rank``-D variant: 'conv2d'/'transpose2d' in the id become the rank's, and an id
    without one gets a 'conv{rank}d-' prefix (rank 2 keeps its id: the 2-D claims came first)."""
    if rank == 2:
        return cid
    out = cid.replace("conv2d", f"conv{rank}d").replace("transpose2d", f"transpose{rank}d")
    return out if out != cid else f"conv{rank}d-{cid}"


def claim(*, id: str, statement: str, source: str, needs, expected: str, cases, outside=None, condition="",
          group: str = "seed", requires=(), examples=(), budget: float = 1.0, version_note: str = "",
          suppress=(), twin: str | None = None):
    """Register the decorated ``check(backend, case)`` as a claim; returns the Claim.

    ``twin`` names the wrong implementation the claim must reject (module doc).  Raises :class:`InvalidClaim`,
    naming the argument, for anything that cannot be right."""
    if not isinstance(id, str) or not id or any(ch.isspace() for ch in id) or "[" in id or "]" in id:
        raise InvalidClaim(f"claim id={id!r} must be a non-empty string without spaces or brackets")
    if expected not in (HOLDS, REFUTED, CONDITIONAL):
        raise InvalidClaim(f"claim {id}: expected={expected!r} must be holds, refuted or conditional")
    if expected == CONDITIONAL and (outside is None or not condition):
        raise InvalidClaim(f"claim {id}: a conditional claim needs outside= cases and a condition=")
    if expected != CONDITIONAL and outside is not None:
        raise InvalidClaim(f"claim {id}: outside= is only for expected=CONDITIONAL")
    if not (isinstance(budget, (int, float)) and budget > 0):
        raise InvalidClaim(f"claim {id}: budget={budget!r} must be a positive number")
    ops = _check_needs(id, needs)
    words = _check_requires(id, requires)
    twin = _check_twin(id, twin)
    cases_f, outside_f = _factory(id, "cases", cases), _factory(id, "outside", outside)
    if cases_f is None:
        raise InvalidClaim(f"claim {id}: cases= is required (a strategy or a function backend -> strategy)")

    def deco(fn):
        if not callable(fn):
            raise InvalidClaim(f"claim {id}: @claim decorates a function check(backend, case), not {fn!r}")
        c = Claim(id=id, statement=statement, source=source, needs=ops, expected=expected, check=fn,
                  cases=cases_f, outside=outside_f, condition=condition, group=group, requires=words,
                  examples=tuple(examples), budget=budget, version_note=version_note, suppress=tuple(suppress),
                  twin=twin)
        if id in REGISTRY and REGISTRY[id].check.__code__ is not fn.__code__:
            raise InvalidClaim(f"duplicate claim id {id!r}")
        REGISTRY[id] = c
        return c
    return deco


_LOADED = False


def load_builtin():
    """Import every module of :mod:`convspec.specs` and its subject packages (each registers its claims):
    the seed claims first (they hold the contract's own definition checks, which make the plainest first
    failure), then the others by module name."""
    global _LOADED
    if not _LOADED:
        names = [m.name for m in pkgutil.walk_packages(convspec.specs.__path__, "convspec.specs.")
                 if not m.ispkg and not m.name.rpartition(".")[2].startswith("_")]
        for name in sorted(names, key=lambda n: (n.rpartition(".")[2] != "seed", n.rpartition(".")[2])):
            importlib.import_module(name)
        _LOADED = True


def load_module(target: str):
    """Import a user claims module (dotted name or .py path); its @claim decorators register it."""
    if target.endswith(".py") or os.path.sep in target:
        path = os.path.abspath(target)
        name = "convspec_claims_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
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
    load_builtin()
    cs = list(REGISTRY.values())
    if pattern:
        pats = [p.strip() for p in pattern.split(",") if p.strip()]
        cs = [c for c in cs if any(fnmatch.fnmatch(c.id, p) for p in pats)]
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    return sorted(cs, key=lambda c: order.get(c.group, len(order)))  # stable: keeps definition order


def expected_for(c: Claim, be) -> str:
    """The verdict expected of claim ``c`` on backend ``be``: the claim's own, except where ``be`` declares a
    departure from it (``be.departures``: a zoo library's documented or found behaviour, with its source),
    where a claim expected to hold (or to hold on its condition) is expected to be refuted."""
    if c.expected in (HOLDS, CONDITIONAL) and c.id in (getattr(be, "departures", None) or {}):
        return REFUTED
    return c.expected


def applicable(c: Claim, be) -> tuple[bool, str]:
    """Whether claim ``c`` applies to backend ``be``, and if not, why (a skip reason)."""
    if be.unavailable:
        return False, be.unavailable
    missing = sorted(c.needs - be.provides)
    if missing:
        return False, f"{be.name} does not provide {', '.join(missing)}"
    caps = be.caps
    for op in sorted(c.needs & set(CONTRACT)):
        if not caps.dtypes_for(op_kind(op)):
            return False, (f"{be.name} declares no dtype of {op}'s domain (declared: {', '.join(caps.dtypes) or 'none'})")
    checks = {
        "groups": caps.groups, "stride": caps.max_stride is None or caps.max_stride > 1,
        "dilation": caps.max_dilation is None or caps.max_dilation > 1,
        "padding": caps.padding, "bias": caps.bias, "deterministic": caps.deterministic,
        "gpu": getattr(caps, "gpu", False),
        "seams": caps.max_size is None or caps.max_size >= 16,
        "padding_strings": getattr(caps, "padding_strings", False),
        "padding_modes": bool(set(getattr(caps, "padding_modes", ("zeros",))) - {"zeros"}),
        "padding_pairs": getattr(caps, "padding_pairs", False),
        "nchw": (getattr(caps, "layout", "NCHW"), getattr(caps, "weight_layout", "OIHW")) == ("NCHW", "OIHW"),
        "nhwc": getattr(caps, "layout", "NCHW") == "NHWC",
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
        elif r == "gpu":
            if not checks["gpu"]:
                return False, f"{be.name} does not run on a GPU (the claim is about GPU paths)"
        elif r in ("nchw", "nhwc") and not checks[r]:
            return False, (f"{be.name} declares layout {getattr(caps, 'layout', 'NCHW')}, weights "
                           f"{getattr(caps, 'weight_layout', 'OIHW')}; the claim needs {REQUIRES[r]}")
        elif not checks[r]:
            return False, f"{be.name} declares no {r} support"
    # a claim about a library's internals applies where the machine matches what it was measured on
    ok, why = condition_holds(c.id, be)
    if not ok:
        return False, why
    return True, ""

