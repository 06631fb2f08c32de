"""Throughput of the engine: examples per second per backend for the core conv2d claim, and the
numba-cuda simulator's rate (what the CUDA path costs in CI).

    python benchmarks/speed.py [--examples 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import settings  # noqa: E402

from specs import backends  # noqa: E402
from specs.backends import cuda_env  # noqa: E402
from specs.claims import REGISTRY, applicable, load_builtin  # noqa: E402
from specs.engine import run_claim  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=60)
    ap.add_argument("--claims", default="conv2d-matches-definition,signal-ops-match-definition,im2col-matmul")
    args = ap.parse_args()
    load_builtin()
    base = settings(max_examples=args.examples, derandomize=True, database=None, deadline=None)
    print(f"CUDA mode: {cuda_env.describe()}")
    print(f"{'claim':34} {'backend':20} {'examples':>8} {'seconds':>8} {'ex/s':>8}")
    for cid in args.claims.split(","):
        c = REGISTRY[cid]
        for be in backends.select("all"):
            if not applicable(c, be)[0]:
                continue
            t0 = time.perf_counter()
            o = run_claim(c, be, base, seed=0)
            dt = time.perf_counter() - t0
            print(f"{cid:34} {be.name:20} {o.examples:8d} {dt:8.2f} {o.examples / dt:8.1f}")


if __name__ == "__main__":
    main()
