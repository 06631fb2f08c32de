"""Covering arrays per op: rows, 3-way coverage, generation time and realisation rate.

    python benchmarks/coverage.py [op ...]      (default: one op of each kind, whole-contract capabilities)
"""

from __future__ import annotations

import sys
import time

from convspec.backends.base import Capabilities
from convspec.drawing import coverage

WHOLE = Capabilities(dtypes=("f64", "f32", "f16", "bf16"), padding_strings=True, padding_pairs=True,
                     padding_modes=("zeros", "reflect", "replicate", "circular"))


def main(ops):
    print(f"{'op':18} {'rows':>5} {'covered/possible':>18} {'gen s':>7} {'figure s':>8} {'rows/s':>8} {'max numel':>9}")
    for op in ops:
        t = time.perf_counter()
        lrows = coverage.level_rows(op, WHOLE)
        gen = time.perf_counter() - t
        kind = coverage.kind_of(op)[0]
        t = time.perf_counter()
        rows = [coverage._row(kind, r, WHOLE) for r in lrows]
        rate = len(rows) / (time.perf_counter() - t)
        t = time.perf_counter()
        cov, pos = coverage.figure(op, WHOLE)
        fig = time.perf_counter() - t
        print(f"{op:18} {len(rows):5d} {f'{cov}/{pos}':>18} {gen:7.2f} {fig:8.2f} {rate:8.0f} "
              f"{max(r.case.numel() for r in rows):9d}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["conv2d", "conv_transpose2d", "conv2d_input", "conv2d_weight", "correlate2d"])
