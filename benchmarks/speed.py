"""Throughput of the engine: examples per second per backend, and the per-example overhead factor
(wall time per example of the whole pipeline -- draw, guard, reference, comparison, hypothesis
bookkeeping -- divided by the time of the raw library call on the same inputs).

Two workloads per backend:

* ``small``: the contract claim ``conv2d-matches-definition`` restricted to tiny and small problems
  (the overhead factor is measured here: the issue's goal is <= 3x the raw call);
* ``claim``: the claim as the suite runs it (all size classes, the large tier and pinned examples).

    python benchmarks/speed.py [--examples 200] [--backends numpy,torch,...] [--workload small,claim]

Runs on any checkout of convspec that has ``convspec.search.engine.run_claim`` (so the same script measures
before and after a change).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import settings  # noqa: E402

from convspec.backends import registry as backends  # noqa: E402
from convspec.claims import REGISTRY, applicable, load_builtin  # noqa: E402
from convspec.drawing import strategies as S  # noqa: E402
from convspec.search.engine import run_claim  # noqa: E402

CPU = "numpy,numpy-im2col,scipy,scipy-fft,torch,torch-module,torch-unfold,tf32-emu"


def raw_seconds(be, cases, repeat=5):
    """Median over cases of the fastest of ``repeat`` raw calls of the backend's conv2d."""
    fn = be.op("conv2d")
    per = []
    for c in cases:
        kw = c.problem.kwargs()
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn(c.x, c.w, c.b, **kw)
            best = min(best, time.perf_counter() - t0)
        per.append(best)
    return statistics.median(per) if per else float("nan")


def measure(be, claim, examples):
    seen = []
    inner = claim.check

    def check(b, case):
        seen.append(case)
        return inner(b, case)
    c = dataclasses.replace(claim, check=check)
    base = settings(max_examples=examples, derandomize=True, database=None, deadline=None)
    t0 = time.perf_counter()
    o = run_claim(c, be, base, seed=0)
    dt = time.perf_counter() - t0
    return o.examples, dt, seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--backends", default=CPU)
    ap.add_argument("--workload", default="small,claim")
    args = ap.parse_args()
    load_builtin()
    claim = REGISTRY["conv2d-matches-definition"]
    small = dataclasses.replace(claim, cases=S.conv(max_class=1), examples=(), budget=1.0)
    print(f"{'backend':14} {'workload':8} {'examples':>8} {'seconds':>8} {'ex/s':>8} {'raw call':>10} {'overhead':>9}")
    for name in args.backends.split(","):
        be = backends.get(name)
        if be.unavailable or not applicable(claim, be)[0]:
            continue
        for wl in args.workload.split(","):
            n, dt, seen = measure(be, small if wl == "small" else claim, args.examples)
            per = dt / max(n, 1)
            if wl == "small":
                raw = raw_seconds(be, seen[: min(len(seen), 60)])
                extra = f"{raw * 1e6:8.0f}us {per / raw:8.1f}x"
            else:
                extra = f"{'':>10} {'':>9}"
            print(f"{name:14} {wl:8} {n:8d} {dt:8.2f} {n / dt:8.1f} {extra}", flush=True)


if __name__ == "__main__":
    main()
