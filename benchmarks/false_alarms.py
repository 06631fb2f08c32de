"""Adversarial search for false alarms of the error model: hypothesis with target() pushes the
observed/allowed error ratio of correct float32 backends as high as it can.  Prints the worst ratio
found per backend (must stay <= 1) and how close the bound is to the observed error.

    python benchmarks/false_alarms.py [--examples 300]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import settings  # noqa: E402

from specs import backends  # noqa: E402
from specs.claims import REGISTRY, load_builtin  # noqa: E402
from specs.engine import run_claim  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=300)
    args = ap.parse_args()
    load_builtin()
    base = settings(max_examples=args.examples, database=None, deadline=None)
    c = REGISTRY["conv2d-matches-definition"]
    for name in ("numpy", "numpy-im2col", "scipy", "scipy-fft", "torch", "torch-unfold", "tf32-emu"):
        be = backends.get(name)
        o = run_claim(c, be, base)
        print(f"{name:14} examples {o.examples:5d}  verdict {o.found:8}  worst error/allowed {o.worst_ratio:.3f}")


if __name__ == "__main__":
    main()
