"""What the covering-array rows cost the gate (issue 18): the ``ci`` gate of a whole-family correct implementation
(``examples/numpy_family.py`` if present, else ``tests/gallery/impls/correct_torch.py``), run with the rows
and without them, and the pinned rows per second.

Prints: the pinned cases per definitional claim (covering-array rows + the index-limit tier, those inside the
declaration, :func:`convspec.search.engine.coverage_examples`), the wall time of the gate with the rows and with
``coverage_examples`` switched off, and rows/s = pinned cases / (wall with rows - wall without).  "With the rows" forces the engine's
``ROWS_ENABLED`` switch on.  Each gate is one
subprocess, one at a time::

    python -m pytest --impl IMPL --backends none --convspec-profile ci -q -p no:randomly [--claims GLOBS]

    python benchmarks/gate_cost.py [--impl PATH] [--claims GLOBS] [--skip-no-rows] [--timeout S]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from seed_stability import rows_cmd  # noqa: E402


def default_impl() -> str:
    fam = os.path.join(ROOT, "examples", "numpy_family.py")
    return fam if os.path.exists(fam) else os.path.join(ROOT, "tests", "selftest", "gallery", "correct_torch.py")


def pinned_rows(impl: str) -> dict:
    """claim id -> number of covering-array and index-limit cases the gate pins for ``impl``."""
    from convspec.backends.base import load_impl
    from convspec.claims import all_claims
    from convspec.search import engine
    from convspec.search.engine import DEFINITIONAL, coverage_examples
    if hasattr(engine, "ROWS_ENABLED"):
        engine.ROWS_ENABLED = True
    be = load_impl(impl)
    out = {}
    for c in all_claims():
        if c.id in DEFINITIONAL:
            n = len(coverage_examples(c, be))
            if n:
                out[c.id] = n
    close = getattr(be, "close", None)
    if callable(close):
        close()
    return out


def gate(impl: str, rows: bool, claims: str, timeout: float) -> tuple[float, object]:
    args = ["--impl", os.path.relpath(impl, ROOT), "--backends", "none", "--convspec-profile", "ci", "-q",
            "-p", "no:randomly"] + (["--claims", claims] if claims else [])
    cmd = rows_cmd("on" if rows else "off", args)
    t0 = time.perf_counter()
    try:
        rc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    return time.perf_counter() - t0, rc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--impl", default=default_impl())
    ap.add_argument("--claims", default="", help="comma-separated claim globs (default: every claim)")
    ap.add_argument("--skip-no-rows", action="store_true", help="only the gate with the rows")
    ap.add_argument("--timeout", type=float, default=3600)
    a = ap.parse_args(argv)
    counts = pinned_rows(a.impl)
    total = sum(counts.values())
    print(f"implementation: {os.path.relpath(a.impl, ROOT)}   claims: {a.claims or 'all'}")
    for k, v in sorted(counts.items()):
        print(f"  {k:40} {v:6} pinned rows")
    print(f"  {'total':40} {total:6}")
    t_on, rc_on = gate(a.impl, True, a.claims, a.timeout)
    print(f"ci gate with the rows:    {t_on:8.1f} s (exit {rc_on})", flush=True)
    if a.skip_no_rows:
        print(f"rows/s (whole gate): {total / t_on:.1f}")
        return 0
    t_off, rc_off = gate(a.impl, False, a.claims, a.timeout)
    print(f"ci gate without the rows: {t_off:8.1f} s (exit {rc_off})")
    extra = t_on - t_off
    print(f"the rows add {extra:.1f} s: " + (f"{total / extra:.1f} rows/s" if extra > 0 else "rows/s not measurable"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
