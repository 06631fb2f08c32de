"""What process isolation costs: per-call overhead for small and large arrays, and the gate time of a
correct implementation run in-process and isolated.

    python benchmarks/isolation.py [--calls 2000] [--large-calls 20] [--gate correct_torch] [--claims GLOBS]

Overhead: an implementation that does no arithmetic (it returns a fresh array of the output shape)
is called in-process and through the worker; the difference is the price of the boundary (framing,
the pipe both ways, the worker's input-write check).  Gate time: every applicable claim of the
``ci`` profile on a correct gallery implementation, with :func:`convspec.search.engine.run_claim`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from convspec.backends.base import load_impl  # noqa: E402
from convspec.claims import all_claims, applicable  # noqa: E402
from convspec.isolation.supervisor import load_isolated  # noqa: E402
from convspec.search import profiles  # noqa: E402
from convspec.search.engine import run_claim  # noqa: E402

GALLERY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "gallery", "impls")

NULL_IMPL = '''
import numpy as np
NAME = "null"
def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    return np.zeros((n, o, h - kh + 1, wd - kw + 1), x.dtype)
'''

SHAPES = {"small": ((1, 1, 8, 8), (1, 1, 3, 3), np.float64), "large": ((4, 64, 128, 128), (64, 64, 3, 3), np.float32)}


def per_call(fn, x, w, calls: int) -> list:
    fn(x, w)
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn(x, w)
        out.append(time.perf_counter() - t0)
    return out


def fmt(seconds: float) -> str:
    return f"{seconds * 1e6:9.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:9.2f} ms"


def overhead(calls: int, large_calls: int):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "null_impl.py")
        with open(path, "w") as f:
            f.write(NULL_IMPL)
        inproc = load_impl(path).ops["conv2d"]
        iso = load_isolated(path)
        try:
            print(f"{'arrays':8} {'x':>18} {'in+out MiB':>10} {'in-process':>12} {'isolated':>12} {'overhead':>12}"
                  "   (median per call)")
            rng = np.random.default_rng(0)
            for label, (xs, ws, dt) in SHAPES.items():
                x, w = rng.standard_normal(xs).astype(dt), rng.standard_normal(ws).astype(dt)
                n = calls if label == "small" else large_calls
                a = statistics.median(per_call(inproc, x, w, n))
                b = statistics.median(per_call(iso.ops["conv2d"], x, w, n))
                mib = (x.nbytes + w.nbytes + inproc(x, w).nbytes) / 2 ** 20
                print(f"{label:8} {str(xs):>18} {mib:10.1f} {fmt(a):>12} {fmt(b):>12} {fmt(b - a):>12}")
        finally:
            iso.close()


def gate(name: str, claims: str | None):
    """Every applicable claim on ``name`` in-process and isolated, interleaved claim by claim (the order
    alternating) so that a shared machine's drifting load biases neither side."""
    path = os.path.join(GALLERY, name + ".py")
    base = profiles.get("ci")
    t0 = time.perf_counter()
    iso = load_isolated(path)
    start, mode = time.perf_counter() - t0, iso.worker.mode
    inproc = load_impl(path)
    totals = {"in-process": 0.0, "isolated": 0.0}
    failed = {"in-process": 0, "isolated": 0}
    n = 0
    try:
        for be in (inproc, iso):               # warm up both (torch's first calls, hypothesis' caches)
            for c in all_claims("conv2d-matches-definition"):
                run_claim(c, be, profiles.get("dev"), seed=1)
        for c in all_claims(claims):
            if c.group == "user" or not applicable(c, inproc)[0]:
                continue
            pair = [("in-process", inproc), ("isolated", iso)]
            for label, be in (pair if n % 2 == 0 else pair[::-1]):
                t0 = time.perf_counter()
                o = run_claim(c, be, base, seed=0)
                totals[label] += time.perf_counter() - t0
                failed[label] += not o.ok
            n += 1
    finally:
        iso.close()
    print(f"gate of {name} (profile ci, seed 0, {n} claims): worker start-up {start:.2f}s ({mode} mode)")
    for label, dt in totals.items():
        print(f"  {label:10} {dt:7.2f}s  ({failed[label]} failed)")
    a, b = totals["in-process"], totals["isolated"]
    print(f"  isolation adds {b - a:+.2f}s ({(b / a - 1) * 100:+.0f}%), plus the start-up")


def main():
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")   # torch, read-only call forms
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--large-calls", type=int, default=20)
    ap.add_argument("--gate", default="correct_torch", help="gallery implementation to gate ('' to skip)")
    ap.add_argument("--claims", default=None, help="comma-separated globs on claim ids (default: all)")
    args = ap.parse_args()
    overhead(args.calls, args.large_calls)
    if args.gate:
        gate(args.gate, args.claims)


if __name__ == "__main__":
    main()
