"""The audit spread over processes: ``convspec audit --jobs N`` runs each backend's column in a process of
its own, at most N at a time, and merges the columns into one :class:`convspec.audit.AuditResult`.

A column is independent of every other: the verdict of (claim, backend) is a function of the claim, the
backend, the budget and the seed (:func:`convspec.search.engine.run_claim` seeds each search), never of what
ran before it in the same process.  So the merged result, and every report rendered from it, is the same
as the serial run's for the same seed; only the wall time changes (``benchmarks/audit_jobs.py`` measures it).

Each column process is a fresh interpreter (``spawn``): it loads the backend by name (a zoo library in its
own worker behind it, as in the serial audit), runs the column and the backend's row of the cross-library
table, and sends back the outcomes (pickled; a claim travels as its id).  A column process that dies or
cannot send its result does not end the audit: each of its cells reads ``error`` with the exit status.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from dataclasses import replace
from multiprocessing.connection import wait

from convspec import audit, claims
from convspec.backends import registry
from convspec.backends.base import Backend
from convspec.claims import REGISTRY, all_claims
from convspec.reporting import paths
from convspec.search import profiles
from convspec.search.engine import Outcome


def default_jobs() -> int:
    """``--jobs 0``: one column process per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:        # not Linux
        return max(1, os.cpu_count() or 1)


def _stub(be) -> Backend:
    """What the report needs of a backend (name, library, version, capabilities, departures), without its ops."""
    return Backend(be.name, dict.fromkeys(be.provides), caps=be.caps, library=be.library, version=be.version,
                   origin=be.origin, unavailable=be.unavailable, repro_args=be.repro_args,
                   departures=dict(be.departures or {}))


def _portable(o):
    """An outcome ready to pickle: the claim as (id, expected verdict), searches without their failures (the
    outcome keeps its own)."""
    searches = [replace(s, failure=None, case=None) for s in o.searches]
    return replace(o, claim=(o.claim.id, o.claim.expected), searches=searches)


def _without_failure(o):
    """``o`` whose failure does not pickle (an exotic exception): the words kept, the object dropped."""
    try:
        pickle.dumps(o)
        return o
    except Exception as e:
        return replace(o, failure=None, message=f"{o.message}\n(the failure object did not pickle: "
                                                f"{type(e).__name__}: {e})")


def _restore(o):
    cid, expected = o.claim
    c = REGISTRY[cid]
    return replace(o, claim=c if c.expected == expected else replace(c, expected=expected))


def _column(conn, name, claims_pattern, profile, seed, claim_modules, repro_dir, behaviours, progress):
    """A column process: run every claim on backend ``name`` and send (stub, cells, behaviour row).  The column
    is pickled once; only when that fails is each outcome checked (:func:`_without_failure`)."""
    for m in claim_modules:
        claims.load_module(m)
    paths.set_repro_dir(repro_dir)
    be = registry.get(name)
    try:
        res = audit.run([be], claims_pattern=claims_pattern, base=profiles.get(profile), seed=seed,
                        progress=progress, profile=profile, behaviours=behaviours)
    finally:
        close = getattr(be, "close", None)
        if callable(close):
            close()
    cells = {k: v if isinstance(v, str) else _portable(v) for k, v in res.cells.items()}
    try:
        payload = pickle.dumps((_stub(be), cells, res.behaviours.get(be.name)))
    except Exception:              # pickling fails before anything is written: mend the cells that do not pickle
        cells = {k: v if isinstance(v, str) else _without_failure(v) for k, v in cells.items()}
        payload = pickle.dumps((_stub(be), cells, res.behaviours.get(be.name)))
    conn.send_bytes(payload)
    conn.close()


def run(names: list, *, jobs: int, claims_pattern=None, profile: str = "ci", seed: int = 0,
        claim_modules=(), repro_dir=None, behaviours: bool = False, progress: bool = True, extra=None):
    """The audit of backends ``names`` (registry names), each column in a process of its own, ``jobs`` at a
    time, in the order given.  ``extra`` (optional) is called in this process while the columns run and
    returns an :class:`~convspec.audit.AuditResult` of its own (``--impl``, which cannot be re-created by name
    in another process); it is merged in after the named backends."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs!r}")
    ctx = multiprocessing.get_context("spawn")
    claim_list = all_claims(claims_pattern)
    pending, running, done = list(names), {}, {}

    def start(name):
        r, w = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_column, name=f"convspec-audit-{name}", daemon=True,
                        args=(w, name, claims_pattern, profile, seed, tuple(claim_modules), repro_dir, behaviours,
                              progress))
        p.start()
        w.close()
        running[r] = (p, name)

    try:
        while pending and len(running) < jobs:
            start(pending.pop(0))
        extra_res = extra() if extra is not None else None
        while running:
            for r in wait(list(running)):
                p, name = running.pop(r)
                try:
                    done[name] = pickle.loads(r.recv_bytes())
                except (EOFError, OSError, pickle.UnpicklingError) as e:
                    p.join()
                    done[name] = _died(name, claim_list, p.exitcode, e)
                r.close()
                p.join()
                if pending:
                    start(pending.pop(0))
    finally:                  # an interrupt (or a bug here) leaves no column process behind
        for p, _ in running.values():
            p.terminate()
    res = audit.AuditResult([], claim_list, seed=seed, profile=profile)
    for name in names:
        stub, cells, row = done[name]
        res.backends.append(stub)
        res.cells.update({k: v if isinstance(v, str) else _restore(v) for k, v in cells.items()})
        if row is not None:
            res.behaviours[name] = row
    if extra_res is not None:
        res.backends += extra_res.backends
        res.cells.update(extra_res.cells)
        res.behaviours.update(extra_res.behaviours)
    return res


def _died(name, claim_list, exitcode, e):
    """The column of a process that ended without sending its result: every cell an error that says so."""
    why = (f"the audit process of {name} ended (exit status {exitcode}) without sending its column: "
           f"{type(e).__name__}: {e}")
    print(f"convspec audit: {why}", file=sys.stderr, flush=True)
    cells = {(c.id, name): Outcome((c.id, c.expected), name, "error", False, message=why) for c in claim_list}
    return Backend(name, {}, origin="zoo" if name.startswith("zoo-") else "builtin"), cells, None
