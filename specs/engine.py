"""The one engine: run a claim against a backend with hypothesis and return an :class:`Outcome`.

The tests, the gate (``pytest --impl``) and the audit (``python -m specs audit``) all call
:func:`run_claim`; none of them has its own notion of a property.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import seed as hseed

from .check import ContractViolation, Mismatch, Recorder, recording, stop_recording
from .claims import CONDITIONAL, HOLDS, REFUTED, Claim
from .contract import Hang

INLINE_DATA_NUMEL = 64


@dataclass
class Search:
    """Result of one hypothesis search over one domain of a claim."""

    domain: str                      # "all", "inside" or "outside"
    failure: BaseException | None    # the shrunk Mismatch / ContractViolation / Hang, or None
    case: object | None              # the shrunk case that produced it
    examples: int
    seconds: float

    @property
    def kind(self) -> str:
        if self.failure is None:
            return "none"
        if isinstance(self.failure, Mismatch):
            return "mismatch"
        if isinstance(self.failure, (ContractViolation, Hang)):
            return "broken"
        return "error"


@dataclass
class Outcome:
    """A claim's verdict on one backend."""

    claim: Claim
    backend: str
    found: str                       # holds / refuted / conditional / broken / error / no-counterexample
    ok: bool                         # found verdict matches the expected one
    message: str = ""
    case: object | None = None       # the (minimal) counterexample or breaking case
    failure: BaseException | None = None
    searches: list = field(default_factory=list)
    worst_ratio: float = 0.0
    worst_where: str = ""
    repro: str = ""

    @property
    def examples(self) -> int:
        return sum(s.examples for s in self.searches)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.searches)

    @property
    def sides(self) -> dict:
        return getattr(self.failure, "sides", {}) or {}


def example_fits(case, be) -> bool:
    """A pinned @example runs on ``be`` only inside its declared capabilities."""
    from .problem import Problem
    if isinstance(case.problem, Problem):
        return be.caps.fits(case.problem)[0]
    return case.problem.dtype in be.caps.dtypes


def budget(claim: Claim, be, base: settings) -> int:
    return max(1, int(round(base.max_examples * claim.budget * be.caps.examples)))


def search(claim: Claim, be, domain: str, base: settings | None = None, seed: int | None = None,
           recorder: Recorder | None = None) -> Search:
    """Run hypothesis over the claim's ``domain`` strategy against ``be``; stop at the first failure
    and shrink it."""
    base = base or settings()
    strat_factory = claim.outside if domain == "outside" else claim.cases
    strategy = strat_factory(be)
    count = [0]

    def body(case):
        count[0] += 1
        for lab in case.problem.labels():
            event(lab)
        note(f"case: {case.problem}" + (f" seed={case.seed}" if case.seed is not None else ""))
        try:
            claim.check(be, case)
        except (Mismatch, ContractViolation, Hang) as e:
            e.case = case
            raise

    body._hypothesis_internal_add_digest = f"convspec/{claim.id}/{be.name}/{domain}".encode()
    fn = body
    if domain != "outside":
        for ex in reversed([e for e in claim.examples if example_fits(e, be)]):
            fn = example(ex)(fn)
    fn = given(strategy)(fn)
    suppress = list(base.suppress_health_check) + [HealthCheck.too_slow, HealthCheck.data_too_large,
                                                    HealthCheck.filter_too_much, HealthCheck.large_base_example]
    suppress += list(claim.suppress)
    fn = settings(base, max_examples=budget(claim, be, base), deadline=None, report_multiple_bugs=False,
                  suppress_health_check=suppress, print_blob=False)(fn)
    if seed is not None:
        fn = hseed(seed)(fn)
    token = recording(recorder) if recorder is not None else None
    t0 = time.perf_counter()
    failure = None
    try:
        fn()
    except (Exception, Hang) as e:   # Mismatch/ContractViolation/Hang, or a bug in the property ("error")
        failure = e
    finally:
        if token is not None:
            stop_recording(token)
    return Search(domain, failure, getattr(failure, "case", None), count[0], time.perf_counter() - t0)


def run_claim(claim: Claim, be, base: settings | None = None, seed: int | None = None,
              impl_arg: str | None = None) -> Outcome:
    """Run ``claim`` on backend ``be`` and judge the result against the expected verdict."""
    rec = Recorder()
    domains = ["inside", "outside"] if claim.expected == CONDITIONAL else ["all"]
    searches = [search(claim, be, d, base, seed, rec) for d in domains]
    out = Outcome(claim, be.name, "", False, searches=searches, worst_ratio=rec.worst, worst_where=rec.where)
    broken = [s for s in searches if s.kind in ("broken", "error")]
    if broken:
        s = broken[0]
        out.found = "broken" if s.kind == "broken" else "error"
        out.message = (f"{type(s.failure).__name__}: {s.failure}" if s.kind == "error" else str(s.failure))
        out.case, out.failure = s.case, s.failure
    elif claim.expected == HOLDS:
        s = searches[0]
        out.found = "holds" if s.kind == "none" else "refuted"
        out.ok = s.kind == "none"
        if not out.ok:
            out.message, out.case, out.failure = str(s.failure), s.case, s.failure
    elif claim.expected == REFUTED:
        s = searches[0]
        out.found = "refuted" if s.kind == "mismatch" else "no-counterexample"
        out.ok = s.kind == "mismatch"
        if out.ok:
            out.message, out.case, out.failure = str(s.failure), s.case, s.failure
        else:
            out.message = (f"expected a counterexample to '{claim.statement}', none found in {s.examples} examples"
                           " -- the backend behaves as the refuted claim says")
    else:
        inside, outside = searches
        if inside.kind == "mismatch":
            out.found, out.message = "refuted", f"fails inside its condition ({claim.condition}): {inside.failure}"
            out.case, out.failure = inside.case, inside.failure
        elif outside.kind == "none":
            out.found = "holds"
            out.message = (f"holds even outside its condition ({claim.condition}): no counterexample in "
                           f"{outside.examples} examples")
        else:
            out.found, out.ok = "conditional", True
            out.message, out.case, out.failure = str(outside.failure), outside.case, outside.failure
    if out.case is not None:
        out.repro = repro_command(claim, be, out.case, impl_arg)
    return out


def repro_command(claim: Claim, be, case, impl_arg: str | None = None) -> str:
    """The one-line command that re-runs exactly this case against this implementation."""
    parts = ["python", "-m", "specs", "repro", claim.id]
    parts += ["--impl", impl_arg] if impl_arg else ["--backend", be.name]
    parts += ["--case", str(case.problem)]
    if case.seed is not None:
        parts += ["--seed", str(case.seed)]
    elif case.numel() <= INLINE_DATA_NUMEL and not any(
            v is not None and np.asarray(v).dtype.kind == "c" for v in case.arrays.values()):
        parts += ["--data", case.data_json()]
    else:
        parts += ["--data", save_case(case)]
    return " ".join(shlex.quote(p) for p in parts)


def save_case(case, folder: str = ".convspec/cases") -> str:
    """Write a case's arrays to an .npz (for repro commands of cases too large to inline)."""
    import hashlib
    import os

    os.makedirs(folder, exist_ok=True)
    h = hashlib.sha1(repr(case).encode()).hexdigest()[:12]
    path = os.path.join(folder, f"{case.problem}_{h}.npz")
    np.savez(path, **{k: v for k, v in case.arrays.items() if v is not None})
    return path


def run_once(claim: Claim, be, case) -> tuple[str, str]:
    """Evaluate the property on one case (the repro command): ('holds'|'mismatch'|'broken', message)."""
    rec = Recorder()
    token = recording(rec)
    try:
        claim.check(be, case)
    except Mismatch as e:
        return "mismatch", str(e)
    except (ContractViolation, Hang) as e:
        return "broken", str(e)
    finally:
        stop_recording(token)
    return "holds", f"property holds on this case (worst error ratio {rec.worst:.3g})"
