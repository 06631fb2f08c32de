"""The one engine: run a claim against a backend with hypothesis and return an :class:`Outcome`.

The tests, the gate (``pytest --impl``) and the audit (``python -m convspec audit``) all call
:func:`run_claim`; none of them has its own notion of a property.

* :func:`build_test` makes the hypothesis test of one (claim, backend, domain): ``@given`` the claim's
  cases and a call form (:mod:`convspec.model.forms`), the pinned ``@example`` cases, the settings, and a
  stable example-database key.  :func:`search` runs it; :func:`run_claim` judges the searches.
* :func:`run_property` evaluates a claim on one case: every result must stay valid until the end of
  the example (:class:`convspec.model.contract.ResultLog`); on every other example of a search for defects, a
  backend declared ``deterministic`` must return the same bits twice; a failure is re-run once, and
  one that does not repeat, or repeats with other bits, aborts the search as
  :class:`~convspec.errors.Nondeterministic` with both results instead of being shrunk.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from hypothesis import HealthCheck, Phase, event, example, given, note, settings
from hypothesis import seed as hseed
from hypothesis.errors import Flaky

from convspec.claims import CONDITIONAL, HOLDS, REFUTED, Claim, expected_for
from convspec.drawing import coverage
from convspec.drawing.coverage.realise import data_for
from convspec.errors import Abort, ContractViolation, Declined, DescriptorError, Mismatch, Nondeterministic
from convspec.model.case import Case
from convspec.model.contract import ResultLog, first_difference, logging_results, same_bits
from convspec.model.forms import PLAIN, call_forms
from convspec.model.ops import op_kind, op_rank
from convspec.model.problem import Problem, SignalProblem, TransposeProblem, np_dtype, parse_any
from convspec.reporting.paths import program, repro_dir
from convspec.truth.check import Recorder, recording, stop_recording

INLINE_DATA_NUMEL = 64


@dataclass
class Search:
    """Result of one hypothesis search over one domain of a claim."""

    domain: str                      # "all", "inside" or "outside"
    failure: BaseException | None    # the shrunk Mismatch / ContractViolation / Abort (Hang, Nondeterministic), or None
    case: object | None              # the shrunk case that produced it
    examples: int
    seconds: float
    declined: dict = field(default_factory=dict)    # op -> (size key, descriptor, message)

    @property
    def kind(self) -> str:
        if self.failure is None:
            return "none"
        if isinstance(self.failure, Mismatch):
            return "mismatch"
        if isinstance(self.failure, (ContractViolation, Abort)):
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
    declined: dict = field(default_factory=dict)   # op -> (descriptor, message): the smallest declined problem
    expected: str = ""                              # the verdict expected on this backend (a declared departure)

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
    if isinstance(case.problem, TransposeProblem):
        return case.problem.dtype in be.caps.dtypes_for("transpose") and be.caps.fits_output_padding(case.problem)
    if isinstance(case.problem, Problem):
        return be.caps.fits(case.problem)[0]
    return be.caps.fits_signal(case.problem)[0]


#: the definitional claim of each op: the covering-array rows (:mod:`convspec.drawing.coverage`) run as its pinned
#: examples, before the random search
DEFINITIONAL = {**{f"conv{r}d-matches-definition": (f"conv{r}d",) for r in (1, 2, 3)},
                **{f"conv-transpose{r}d-matches-definition": (f"conv_transpose{r}d",) for r in (1, 2, 3)},
                **{f"conv{r}d-input-matches-definition": (f"conv{r}d_input",) for r in (1, 2, 3)},
                **{f"conv{r}d-weight-matches-definition": (f"conv{r}d_weight",) for r in (1, 2, 3)},
                "convolve2d-matches-definition": ("convolve2d",), "correlate2d-matches-definition": ("correlate2d",)}


#: the covering-array rows run first on an implementation under test (--impl, --impl-cmd, a zoo library); on the
#: built-in backends too with CONVSPEC_ROWS=all (the self-tests' claim matrix leaves them out: ~400 rows per op and
#: backend); CONVSPEC_ROWS=0 turns them off (e.g. to time the random search alone)
ROWS = os.environ.get("CONVSPEC_ROWS", "1")
ROWS_ENABLED = ROWS != "0"


def coverage_examples(claim: Claim, be) -> list:
    """The covering-array rows and the index-limit tier of the claim's op (a definitional claim), as cases
    that fit ``be``'s resolved capabilities: the same list on every run and machine for one declaration."""
    ops = DEFINITIONAL.get(claim.id, ())
    if not ops or not all(op in be.provides for op in ops):
        return []
    if not ROWS_ENABLED or (be.origin == "builtin" and ROWS != "all"):
        return []
    if be.caps.gpu and os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return []         # numba's CUDA simulator interprets each thread in Python: the rows run on hardware only
    out = []
    for op in ops:
        try:
            op_rows = coverage.rows(op, be.caps)
        except Exception as e:      # the generator's own limit (coverwise: 256 constraints): said, never hidden
            warnings.warn(f"convspec: no covering array for {op} on {be.name}: {type(e).__name__}: {e}", stacklevel=2)
            op_rows = []
        for row in op_rows:
            case = row.case
            if row.levels.get("regime") == "special" and getattr(case.problem, "rank", 2) > 2:
                continue          # the special-value oracle (convspec.truth.special) is 2-D: conv3d's specials stay untested
            if row.kwargs and any(isinstance(v, str) for v in row.kwargs.values()):
                case = replace(case, kwargs=dict(row.kwargs))   # padding='same'/'valid', padding_mode: the row's call
            out.append(case)
        out += list(coverage.index_limit_cases(op, be.caps))
    return [c for c in out if example_fits(c, be)]


def departure_examples(claim: Claim, be) -> list:
    """The counterexample of ``be``'s declared departure from a definitional claim (the record's
    ``counterexample`` descriptor, :mod:`convspec.backends.zoo`), as a pinned case with seeded data, so that
    the audit meets the departure on every run and seed instead of when the random search happens to draw
    it.  The record's problem is already the shrunk one, so a failure on it is not searched again
    (:func:`run_built`).  Empty when the claim is not definitional, the descriptor is prose or of another op
    (an alias's record, a rank of its own: a record's optional ``pins`` lists the descriptors of the other
    ranks), or the problem lies outside the backend's declaration.  A record's optional ``data`` (array name
    -> nested lists) gives the counterexample's own arrays, for a departure that seeded data would not meet."""
    rec = (getattr(be, "departures", None) or {}).get(claim.id)
    ops = DEFINITIONAL.get(claim.id, ())
    if not isinstance(rec, dict) or len(ops) != 1 or ops[0] not in be.provides:
        return []
    op, kind = ops[0], op_kind(ops[0])
    for n, text in enumerate([str(rec.get("counterexample", ""))] + [str(t) for t in rec.get("pins", ())]):
        try:
            p = parse_any(text.split()[0])
        except (DescriptorError, IndexError, ValueError):
            continue
        if kind == "signal":
            fits_op = isinstance(p, SignalProblem)
        else:
            fits_op = (isinstance(p, Problem) and p.rank == op_rank(op)   # a gradient's problem is its transpose's
                       and isinstance(p, TransposeProblem) == (kind in ("transpose", "input", "weight")))
        if fits_op:
            data = rec.get("data") if n == 0 else None       # the counterexample's own arrays, when recorded
            if data is not None:
                case = Case(p, {k: np.asarray(v, dtype=np.float64).astype(np_dtype(p.dtype)) for k, v in data.items()})
            else:
                case = Case(p, data_for(kind, p, p.regime, 0), None if kind == "weight" else 0)
            return [case] if example_fits(case, be) else []
    return []


def _declined_op(e: Declined) -> str:
    head = str(e).split(" declined ", 1)[0]
    return head.rpartition(".")[2] or "?"


def budget(claim: Claim, be, base: settings) -> int:
    return max(1, int(round(base.max_examples * claim.budget * be.caps.examples)))


#: one example in this many (the first included) of a defect-finding search calls every op of a
#: backend declared ``deterministic`` twice and requires the two results to be equal bit for bit
DETERMINISM_SHARE = 2


def finds_defects(claim: Claim, domain: str) -> bool:
    """Whether a failure in this search is a defect of the backend (holds-claims, and the inside of a
    conditional claim), rather than the counterexample a refuted claim or an outside domain expects.
    Only such searches re-run failures and check determinism."""
    return domain == "inside" or (domain == "all" and claim.expected == HOLDS)


def database_key(claim: Claim, be, domain: str) -> bytes:
    """The example-database key of one search: stable across runs and convspec versions, and distinct
    per (claim id, backend name, domain)."""
    return hashlib.sha384(f"convspec/{claim.id}/{be.name}/{domain}".encode()).digest()


def with_form(case, form):
    """``case`` with call form ``form`` (a case that pins its own form keeps it); shares the oracle cache."""
    if getattr(case, "form", None) is not None or form is None:
        return case
    new = replace(case, form=form)
    new.__dict__["_cache"] = case.__dict__.setdefault("_cache", {})
    return new


def _form_events(form):
    if form is None or form.plain:
        return ["form=plain"]
    out = [f"form:{k}={getattr(form, k)}" for k in ("stride", "padding", "dilation") if getattr(form, k) != "tuple"]
    out += [f"layout={lay}" for _, lay in form.layouts]
    return out + (["layout=readonly"] if form.readonly else [])


def _results_differ(log1: ResultLog, log2: ResultLog):
    """The first call whose results differ between two runs: (index, label, first, second) or None."""
    for k, ((l1, r1), (l2, r2)) in enumerate(zip(log1.results(), log2.results()), 1):
        if l1 != l2 or not same_bits(r1, r2):
            return k, l1, r1, r2
    return None


def run_property(claim: Claim, be, case, *, rerun_on_failure: bool = True, check_determinism: bool = False):
    """Evaluate ``claim`` on ``case`` once, under a :class:`~convspec.model.contract.ResultLog` (results must stay
    valid; with ``check_determinism`` each call of a backend declared deterministic is made twice).

    A Mismatch or ContractViolation is re-run once on the same inputs (``rerun_on_failure``).  When the
    rerun passes, or (for a backend declared deterministic) returns other bits, the failure is
    :class:`~convspec.errors.Nondeterministic` -- an abort, so hypothesis does not spend minutes
    shrinking a failure that does not repeat; otherwise the first failure is raised.
    """
    __tracebackhide__ = True
    log = ResultLog(rerun=(be.name,) if check_determinism and be.caps.deterministic else ())
    try:
        with logging_results(log):
            claim.check(be, case)
            log.verify()
    except (Mismatch, ContractViolation) as first:
        first.case = case
        if rerun_on_failure:
            _rerun(claim, be, case, first, log, check_determinism)
        raise
    except Abort as e:
        if e.case is None:
            e.case = case
        raise


def _rerun(claim: Claim, be, case, first: BaseException, log: ResultLog, check_determinism: bool):
    __tracebackhide__ = True
    log2 = ResultLog(rerun=log.rerun)
    second = None
    try:
        with logging_results(log2):
            claim.check(be, case)
            log2.verify()
    except (Mismatch, ContractViolation) as e:
        second = e
    except Abort as e:
        e.case = case
        raise
    diff = _results_differ(log, log2)
    sides, where = {}, ""
    if diff is not None:
        k, label, r1, r2 = diff
        sides = {f"first run, call #{k}": r1, f"second run, call #{k}": r2}
        where = f"; call #{k} ({label}) returned different results: {first_difference(r1, r2)}"
    if second is None:
        raise Nondeterministic(f"nondeterministic: the property failed, then held when re-run on the same inputs"
                               f"{where}.\nFirst run: {first}", case, sides) from None
    if diff is not None and be.caps.deterministic:
        raise Nondeterministic(f"nondeterministic: two runs on the same inputs gave different results{where}."
                               f"\nFirst run: {first}\nSecond run: {second}", case, sides) from None


class SearchState:
    """What a built test remembers across its examples: how many ran, the last failing case, and the
    recorder of error ratios."""

    def __init__(self, recorder: Recorder | None = None):
        self.count = 0
        self.last_case = None
        self.recorder = recorder
        self.declined: dict = {}    # op -> ((size key), descriptor, message): the smallest declined problem
        self.tick = None            # optional callable, called once per example (convspec fuzz's progress line)


def build_test(claim: Claim, be, domain: str, base_settings: settings | None = None, seed: int | None = None, *,
               recorder: Recorder | None = None, explain: bool = False, database=None, rows: bool = True):
    """The fully decorated hypothesis test of ``claim`` on ``be`` over ``domain`` ("all", "inside" or
    "outside"): ``@given`` (the claim's cases and a call form), its pinned ``@example`` cases (those
    inside the backend's declared capabilities), settings from ``base_settings`` with the claim's
    budget, and a stable example-database key (:func:`database_key`).  Calling it runs the search and
    raises the shrunk failure; ``test.convspec`` is its :class:`SearchState`.

    The explain phase is left out (convspec's report explains, and it costs ~20%) unless ``explain``
    (``--hypothesis-explain``).  ``database`` (default: ``base_settings.database``) is kept even with a
    ``seed`` (Hypothesis's ``@seed`` alone turns the database off; the key here is explicit and stable):
    the gate passes a read-only view of the shared one (:mod:`convspec.search.database`), ``convspec fuzz`` the
    writable store."""
    base = base_settings or settings()
    strategy = (claim.outside if domain == "outside" else claim.cases)(be)
    state = SearchState(recorder)
    defects = finds_defects(claim, domain)

    pinned = [e for e in claim.examples if example_fits(e, be)] if domain != "outside" else []
    minimal = departure_examples(claim, be) if domain != "outside" else []
    if rows and domain != "outside":
        pinned += coverage_examples(claim, be)
    pinned = minimal + pinned
    pinned_ids = {id(e) for e in pinned}
    minimal_ids = {id(e) for e in minimal}

    def convspec_test(case, form):
        __tracebackhide__ = True
        state.count += 1
        case_in = case
        on_pinned = id(case) in pinned_ids
        if state.tick is not None:
            state.tick()
        case = with_form(case, form)
        for lab in case.problem.labels() + _form_events(case.form):
            event(lab)
        note(f"case: {case.problem}" + (f" seed={case.seed}" if case.seed is not None else "")
             + (f" form={case.form}" if case.form is not None and not case.form.plain else ""))
        token = recording(state.recorder) if state.recorder is not None else None
        try:
            run_property(claim, be, case, rerun_on_failure=defects,
                         check_determinism=defects and state.count % DETERMINISM_SHARE == 1)
        except Declined as e:       # the implementation declines this problem: not covered, not a failure
            event("declined")
            op = _declined_op(e)
            key = (case.numel(), len(str(case.problem)), str(case.problem))
            if op not in state.declined or key < state.declined[op][0]:
                state.declined[op] = (key, str(case.problem), str(e))
        except (Mismatch, ContractViolation, Abort):
            state.last_case = case
            state.failed_on_pinned = on_pinned and id(case_in) not in minimal_ids
            raise
        finally:
            if token is not None:
                stop_recording(token)

    convspec_test._hypothesis_internal_add_digest = f"convspec/{claim.id}/{be.name}/{domain}".encode()
    fn = convspec_test
    for ex in reversed(pinned):
        fn = example(case=ex, form=PLAIN)(fn)
    fn = given(case=strategy, form=call_forms())(fn)
    suppress = list(base.suppress_health_check) + [HealthCheck.too_slow, HealthCheck.data_too_large,
                                                    HealthCheck.filter_too_much, HealthCheck.large_base_example]
    suppress += list(claim.suppress)
    phases = tuple(ph for ph in base.phases if ph != Phase.explain)   # convspec's report explains; saves ~20%
    if explain and Phase.shrink in phases:
        phases += (Phase.explain,)
    fn = settings(base, max_examples=budget(claim, be, base), deadline=None, report_multiple_bugs=False,
                  suppress_health_check=suppress, print_blob=False, phases=phases)(fn)
    if seed is not None:
        fn = hseed(seed)(fn)
    if database is not None:       # after @seed, which sets database=None
        fn._hypothesis_internal_use_settings = settings(fn._hypothesis_internal_use_settings, database=database)
    fn._hypothesis_internal_database_key = database_key(claim, be, domain)
    fn.convspec = state
    if pinned:     # the same search without the pinned examples (see run_built: a pinned failure is not shrunk)
        state.rebuild = lambda: build_test(replace(claim, examples=()), be, domain, base_settings, seed,
                                           recorder=recorder, explain=explain, database=database, rows=False)
    return fn


def search(claim: Claim, be, domain: str, base: settings | None = None, seed: int | None = None,
           recorder: Recorder | None = None) -> Search:
    """Run hypothesis over the claim's ``domain`` strategy against ``be``; stop at the first failure
    and shrink it."""
    return run_built(build_test(claim, be, domain, base, seed, recorder=recorder), domain)


def run_built(fn, domain: str = "all") -> Search:
    """Run a test made by :func:`build_test` (the pytest item's ``obj``, or the audit's search) and
    return its :class:`Search`: the shrunk failure, if any, and the examples it took."""
    t0 = time.perf_counter()
    failure = None
    try:
        fn()
    except (Exception, Abort) as e:   # Mismatch/ContractViolation/Abort, or a bug in the property ("error")
        failure = e
        if isinstance(e, Flaky):       # hypothesis could not replay a failure: name it, do not shrink further
            failure = Nondeterministic(f"nondeterministic: a failure did not repeat when hypothesis replayed it: "
                                       f"{e}", fn.convspec.last_case)
    count = fn.convspec.count
    declined = dict(fn.convspec.declined)
    rebuild = getattr(fn.convspec, "rebuild", None)
    if (isinstance(failure, (ContractViolation, Mismatch)) and not isinstance(failure, Nondeterministic)
            and getattr(fn.convspec, "failed_on_pinned", False) and rebuild is not None):
        # Hypothesis never shrinks an explicit @example: a failure on a pinned case (a covering-array row, a
        # seam) would be reported on that case.  Search again without the pinned cases and keep a shrunk
        # failure of the same kind if the search finds one, so the report ends at the smallest problem; the
        # pinned failure stands otherwise (the rows are already the smallest problem of their combination).
        again = run_built(rebuild(), domain)
        count += again.examples
        if type(again.failure) is type(failure) and not isinstance(again.failure, Nondeterministic):
            failure = again.failure
        for op, v in again.declined.items():
            if op not in declined or v[0] < declined[op][0]:
                declined[op] = v
    return Search(domain, failure, getattr(failure, "case", None), count, time.perf_counter() - t0, declined)


def run_claim(claim: Claim, be, base: settings | None = None, seed: int | None = None,
              impl_arg: str | None = None) -> Outcome:
    """Run ``claim`` on backend ``be`` and judge the result against the expected verdict."""
    rec = Recorder()
    domains = ["inside", "outside"] if claim.expected == CONDITIONAL else ["all"]
    searches = [search(claim, be, d, base, seed, rec) for d in domains]
    return judge(claim, be, searches, rec, impl_arg)


def judge(claim: Claim, be, searches: list, rec: Recorder | None = None, impl_arg: str | None = None) -> Outcome:
    """The :class:`Outcome` of a claim on ``be`` from its searches (one per domain: ``all``, or
    ``inside`` and ``outside`` for a conditional claim), judged against the expected verdict."""
    rec = rec if rec is not None else Recorder()
    expected = expected_for(claim, be)
    departs = claim.id in (getattr(be, "departures", None) or {})
    if departs:                             # a declared departure of this backend: judged as refuted
        claim = replace(claim, expected=expected)
    out = Outcome(claim, be.name, "", False, searches=searches, worst_ratio=rec.worst, worst_where=rec.where,
                  expected=expected)
    for s in searches:
        for op, (key, desc, msg) in s.declined.items():
            if op not in out.declined or key < out.declined[op][0]:
                out.declined[op] = (key, desc, msg)
    out.declined = {op: (desc, msg) for op, (key, desc, msg) in out.declined.items()}
    broken = [s for s in searches if s.kind in ("broken", "error")]
    if departs and broken and broken[0].kind == "broken":
        # a declared departure by raising (ONNX Runtime's output_padding rule): the refutation the record states
        s = broken[0]
        out.found, out.ok = "refuted", True
        out.message = f"the declared departure: {s.failure}"
        out.case, out.failure = s.case, s.failure
    elif broken:
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
        form = getattr(out.case, "form", None)
        if form is not None and not form.plain and f"form {form}" not in out.message:
            out.message += f"\n(arrays and arguments passed in call form {form}: see convspec/model/forms.py)"
    return out


def repro_command(claim: Claim, be, case, impl_arg: str | None = None) -> str:
    """The one-line command that re-runs exactly this case against this implementation:
    ``python -m convspec repro ...`` (:func:`convspec.reporting.paths.program`), with the options that recreate the
    backend (``--impl``/``--impl-cmd`` and its isolation settings, or ``--backend NAME``)."""
    parts = program() + ["repro", claim.id]
    target_args = list(getattr(be, "repro_args", ()) or ())
    if impl_arg and not target_args:
        target_args = ["--impl", impl_arg]
    parts += target_args or ["--backend", be.name]
    parts += ["--case", str(case.problem)]
    if getattr(case, "form", None) is not None and not case.form.plain:
        parts += ["--form", str(case.form)]
    if case.seed is not None:
        parts += ["--seed", str(case.seed)]
    elif case.numel() <= INLINE_DATA_NUMEL and not any(
            v is not None and np.asarray(v).dtype.kind == "c" for v in case.arrays.values()):
        parts += ["--data", case.data_json()]
    else:
        parts += ["--data", save_case(case)]
    return " ".join(shlex.quote(p) for p in parts)


def save_case(case, folder: str | None = None) -> str:
    """Write a case's arrays to an .npz for a repro command (arrays too large to inline), in ``folder``
    or the repro directory (:func:`convspec.reporting.paths.repro_dir`: ``--repro-dir``, ``$CONVSPEC_REPRO_DIR`` or
    ``~/.cache/convspec/cases``), and return its absolute path."""


    folder = os.path.abspath(folder or repro_dir())
    os.makedirs(folder, exist_ok=True)
    h = hashlib.sha1(repr(case).encode()).hexdigest()[:12]
    path = os.path.join(folder, f"{case.problem}_{h}.npz")
    np.savez(path, **{k: v for k, v in case.arrays.items() if v is not None})
    return path


def run_once(claim: Claim, be, case) -> tuple[str, str]:
    """Evaluate the property on one case (the repro command): ('holds'|'mismatch'|'broken', message).
    The case's call form (``case.form``, the repro command's ``--form``) is honoured; a failure is re-run
    once and every call is made twice on a backend declared deterministic, as in the search."""
    rec = Recorder()
    token = recording(rec)
    try:
        run_property(claim, be, case, rerun_on_failure=True, check_determinism=True)
    except Mismatch as e:
        return "mismatch", str(e)
    except (ContractViolation, Abort) as e:
        return "broken", str(e)
    finally:
        stop_recording(token)
    return "holds", f"property holds on this case (worst error ratio {rec.worst:.3g})"
