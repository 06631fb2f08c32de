"""``convspec fuzz``: run every gate test of an implementation for a long time, on many cores, and
store every counterexample in the shared example database (:mod:`convspec.search.database`), so that the next
gate (``pytest --impl X --convspec-database ...``) replays it first.

The gate tests of ``X`` are the claims expected to hold that apply to it (:func:`gate_claims`), each
the same ``@given`` test the gate runs (:func:`convspec.search.engine.build_test`, same database key).  Engines:

* ``default`` -- N processes (``-n``), each running the gate tests in turn, in rounds of
  ``ROUND`` x the gate's budget, every round with a fresh random seed (recorded, so a round can be
  re-run) and a writable database: Hypothesis saves each shrunk failure under the test's stable key.
  The pinned ``@example`` cases are left out (the gate runs them; a failure there is never stored).
  A process stops running a test once it has failed there.
* ``atheris`` -- coverage-guided: each test's ``fuzz_one_input`` under Atheris/libFuzzer
  (``pip install atheris``, Apache-2.0), the implementation imported in-process and instrumented, one
  child process per test and time slice; failures are filed under the test's primary key
  (:class:`convspec.search.database.Rekeyed`) and then replayed here for the report.
* HypoFuzz is not driven from here (its licence allows non-commercial use only): the gate tests are
  Hypothesis tests, so ``hypothesis fuzz -- --impl X`` collects them (see the README).

A live line on stderr shows the elapsed time, examples run, examples/s and failures found; at the end
each failure is listed with its problem descriptor and repro command.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import sys
import time
from dataclasses import dataclass

from hypothesis import Phase, settings
from hypothesis.internal.reflection import function_digest

from convspec import claims
from convspec.claims import HOLDS, REGISTRY, all_claims, applicable
from convspec.isolation import loader
from convspec.reporting import paths
from convspec.search import database, profiles
from convspec.search.database import describe
from convspec.search.engine import build_test, database_key, judge, run_built
from convspec.truth.check import Recorder

ENGINES = ("default", "atheris", "hypofuzz")
ROUND = 5            # examples per round, as a multiple of the gate's budget of the test
GRACE = 30.0         # seconds a process may overrun the deadline to finish shrinking before it is stopped


@dataclass
class Found:
    """A failure found by fuzzing: the gate test, its verdict, descriptor, repro command, message."""

    test: str
    found: str
    problem: str
    repro: str
    message: str
    process: int


def gate_claims(be, pattern: str | None = None) -> list:
    """The claims whose gate tests ``convspec fuzz`` runs on ``be``: expected to hold, and applicable."""
    return [c for c in all_claims(pattern) if c.expected == HOLDS and applicable(c, be)[0]]


def test_id(claim, be) -> str:
    return f"test_claim[{claim.id}-{be.name}]"


def _load(impl: dict):
    return loader.load(impl.get("impl"), cmd=impl.get("impl_cmd"), isolation=impl.get("isolation", "process"),
                       timeout=impl.get("call_timeout"), memory_limit_mb=impl.get("memory_limit"))


def _setup(claims_modules, repro_dir):
    paths.set_repro_dir(repro_dir)
    claims.load_builtin()
    for m in claims_modules or ():
        claims.load_module(m)


def _found(claim, be, search, rec, impl_arg, process) -> Found:
    o = judge(claim, be, [search], rec, impl_arg)
    first = (o.message or "").strip().splitlines()
    return Found(test_id(claim, be), o.found, str(o.case.problem) if o.case is not None else "", o.repro,
                 first[0] if first else "", process)


# -- the default engine ---------------------------------------------------------------------------------

def _default_worker(index, job, counter, stop, results):
    """One fuzzing process: the gate tests in turn, a fresh seed per round, until ``stop`` or the deadline."""
    _setup(job["claims_modules"], job["repro_dir"])
    be = _load(job["impl"])
    try:
        db = database.open_database(job["database"])
        base = settings(profiles.get("ci"), max_examples=profiles.EXAMPLES["ci"] * ROUND, derandomize=False,
                        database=db, phases=tuple(p for p in Phase if p not in (Phase.explicit, Phase.explain)))
        tests = gate_claims(be, job["claims"])
        if not tests:
            return
        rng = random.Random(job["seed"] * 1_000_003 + index)
        order = tests[index % len(tests):] + tests[:index % len(tests)]
        failed: set = set()

        def tick():
            counter.value += 1
        while not stop.is_set() and time.time() < job["deadline"]:
            todo = [c for c in order if c.id not in failed]
            if not todo:
                break
            for c in todo:
                if stop.is_set() or time.time() >= job["deadline"]:
                    break
                rec = Recorder()
                fn = build_test(c, be, "all", base, seed=rng.getrandbits(64), recorder=rec, database=db)
                fn.convspec.tick = tick
                s = run_built(fn, "all")
                if s.failure is not None:
                    failed.add(c.id)
                    results.put(_found(c, be, s, rec, job["impl"].get("impl"), index))
    finally:
        close = getattr(be, "close", None)
        if callable(close):
            close()


# -- the atheris engine ---------------------------------------------------------------------------------

def _atheris_worker(job, claim_id, seconds, counter):
    """One child process: Atheris drives ``fuzz_one_input`` of one gate test for ``seconds``."""
    import atheris  # lazy: an optional extra, for --engine atheris (in its child process)
    _setup(job["claims_modules"], job["repro_dir"])
    impl = dict(job["impl"], isolation="none")           # coverage is measured in this process
    with atheris.instrument_imports():
        be = _load(impl)
    claim = REGISTRY[claim_id]
    db = database.open_database(job["database"])
    fn = build_test(claim, be, "all", settings(profiles.get("ci"), derandomize=False))
    inner = fn.hypothesis.inner_test
    fuzz_key = function_digest(inner) + b".secondary"
    fn._hypothesis_internal_use_settings = settings(fn._hypothesis_internal_use_settings,
                                                    database=database.Rekeyed(db, fuzz_key, database_key(claim, be, "all")))

    def tick():
        counter.value += 1
    fn.convspec.tick = tick
    atheris.Setup(["convspec-fuzz", f"-max_total_time={max(1, int(seconds))}", "-print_final_stats=0"],
                  fn.hypothesis.fuzz_one_input)
    atheris.Fuzz()


def _replay(job, be, claim, index):
    """Replay what the database holds for ``claim`` on ``be`` (read-only): a Found, or None."""
    view = database.gate_view(job["database"])
    rec = Recorder()
    fn = build_test(claim, be, "all", settings(profiles.get("ci"), database=view, max_examples=1,
                                                phases=(Phase.reuse, Phase.shrink)), recorder=rec)
    s = run_built(fn, "all")
    return None if s.failure is None else _found(claim, be, s, rec, job["impl"].get("impl"), index)


# -- the driver -----------------------------------------------------------------------------------------

def _line(t0, minutes, total, failures, nproc, rate_state) -> str:
    now = time.time()
    el = now - t0
    last_t, last_n = rate_state
    rate = (total - last_n) / (now - last_t) if now > last_t else 0.0
    left = "" if minutes is None else f" of {minutes * 60:.0f}s"
    return (f"\rconvspec fuzz: {el:6.0f}s{left}  {total} examples  {rate:7.1f} examples/s  "
            f"{nproc} process{'es' if nproc != 1 else ''}  failures found: {failures}   ")


def run(job: dict, processes: int, minutes: float | None, engine: str = "default", out=sys.stderr,
        stats: dict | None = None) -> list[Found]:
    """Fuzz with ``processes`` processes for ``minutes`` (None: until interrupted); return the failures.
    ``stats``, if given, receives ``examples``, ``seconds`` and ``first_failure_s`` (seconds to the first
    failure reported, or None), and for a steady rate ``first_example_s`` and ``examples_running`` /
    ``running_until_s`` (the count when the deadline passed, leaving out start-up and the final rounds)."""
    if engine not in ("default", "atheris"):
        raise ValueError(f"--engine {engine!r}: choose default or atheris (HypoFuzz: see the README)")
    t0 = time.time()
    job = dict(job, deadline=t0 + (minutes * 60 if minutes is not None else 10 ** 9))
    ctx = mp.get_context("spawn")
    counters = [ctx.RawValue("q", 0) for _ in range(processes)]
    stop, results = ctx.Event(), ctx.Queue()
    found: dict[str, Found] = {}
    tty = hasattr(out, "isatty") and out.isatty()
    rate_state = [t0, 0]
    last_print = 0.0

    def poll(force=False):
        nonlocal last_print
        while not results.empty():
            f = results.get()
            found.setdefault(f.test, f)
            if stats is not None and stats.get("first_failure_s") is None:
                stats["first_failure_s"] = time.time() - t0
        total = sum(c.value for c in counters)
        now = time.time()
        if stats is not None:
            if total and "first_example_s" not in stats:
                stats["first_example_s"] = now - t0
            if not stop.is_set():
                stats.update(examples_running=total, running_until_s=now - t0)
        if tty or force or now - last_print >= 10:
            out.write(_line(t0, minutes, total, len(found), processes, rate_state) + ("" if tty else "\n"))
            out.flush()
            last_print = now
            rate_state[:] = [now, total]
    try:
        if engine == "default":
            procs = [ctx.Process(target=_default_worker, args=(i, job, counters[i], stop, results), daemon=True)
                     for i in range(processes)]
            for p in procs:
                p.start()
            deadline, grace = job["deadline"], GRACE
            while any(p.is_alive() for p in procs):
                if job.get("max_failures") and len(found) >= job["max_failures"] and not stop.is_set():
                    deadline, grace = time.time(), 2.0       # enough found: stop now (benchmarks)
                if time.time() >= deadline:
                    stop.set()
                    if time.time() >= deadline + grace:
                        break
                time.sleep(0.5)
                poll()
            for p in procs:
                if p.is_alive():
                    p.terminate()
                p.join()
        else:
            _run_atheris(job, processes, ctx, counters, stop, poll, found)
    except KeyboardInterrupt:
        stop.set()
        out.write("\nconvspec fuzz: interrupted\n")
    finally:
        stop.set()
    time.sleep(0.2)
    poll(force=True)
    out.write("\n")
    if stats is not None:
        stats.setdefault("first_failure_s", None)
        stats.update(examples=sum(c.value for c in counters), seconds=time.time() - t0)
    return list(found.values())


def _run_atheris(job, processes, ctx, counters, stop, poll, found):
    be = _load(dict(job["impl"], isolation="none"))
    tests = gate_claims(be, job["claims"])
    if not tests:
        return
    total_s = job["deadline"] - time.time()
    rounds = max(1, -(-len(tests) // processes))
    slice_s = max(2.0, total_s / rounds)
    queue = list(tests)
    running: list = []
    while (queue or running) and not stop.is_set():
        while queue and len(running) < processes and time.time() < job["deadline"]:
            c = queue.pop(0)
            slot = len(running)
            p = ctx.Process(target=_atheris_worker, args=(job, c.id, min(slice_s, job["deadline"] - time.time()),
                                                          counters[slot % processes]), daemon=True)
            p.start()
            running.append((p, c))
        for p, c in list(running):
            if not p.is_alive():
                p.join()
                running.remove((p, c))
                f = _replay(job, be, c, 0)
                if f is not None:
                    found.setdefault(f.test, f)
        if not queue and not running:
            break
        if time.time() >= job["deadline"] + GRACE:
            for p, _ in running:
                p.terminate()
            break
        time.sleep(0.5)
        poll()


def report(found: list[Found], db: str, out=sys.stdout) -> None:
    """The end of a fuzz run: each failure with its descriptor and repro command."""
    if not found:
        out.write(f"convspec fuzz: no failure found (database {describe(db)})\n")
        return
    out.write(f"convspec fuzz: {len(found)} failing gate test{'s' if len(found) != 1 else ''}, stored in the "
              f"database {describe(db)} (the gate replays them first):\n")
    for f in sorted(found, key=lambda f: f.test):
        out.write(f"\n{f.test}: found {f.found}\n  problem: {f.problem}\n  {f.message}\n  reproduce:\n    {f.repro}\n")


def default_database() -> str:
    """Where ``convspec fuzz`` stores examples when no database is given: the user cache."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "convspec", "examples")
