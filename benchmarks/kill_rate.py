"""Bug-finding power of the gate: for every wrong implementation of the gallery, run the claims in
registry order (as `pytest --impl` would) until one rejects it, repeated over several seeds.

Prints, per wrong implementation: killed or not, the claim that killed it first, and the median
wall time and number of examples to the first failure; then the kill rate.

    python benchmarks/kill_rate.py [--profile ci] [--seeds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from convspec.backends.base import load_impl  # noqa: E402
from convspec.claims import all_claims, applicable  # noqa: E402
from convspec.search import profiles  # noqa: E402
from convspec.search.engine import run_claim  # noqa: E402

GALLERY = os.path.join(ROOT, "tests", "gallery", "impls")


def first_kill(be, base, seed):
    examples, t0 = 0, time.perf_counter()
    for c in all_claims():
        if c.group == "user" or not applicable(c, be)[0]:
            continue
        o = run_claim(c, be, base, seed=seed)
        examples += o.examples
        if not o.ok:
            return c.id, time.perf_counter() - t0, examples
    return None, time.perf_counter() - t0, examples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="ci")
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    base = profiles.get(args.profile)
    names = sorted(f[:-3] for f in os.listdir(GALLERY) if f.endswith(".py") and not f.startswith(("_", "correct")))
    print(f"{'wrong implementation':28} {'killed':>7} {'first killing claim':40} {'median s':>9} {'median ex':>10}")
    killed_all = 0
    for n in names:
        be = load_impl(os.path.join(GALLERY, n + ".py"))
        runs = [first_kill(be, base, seed) for seed in range(args.seeds)]
        kills = [r for r in runs if r[0] is not None]
        killed_all += len(kills) == len(runs)
        claim_ids = sorted({r[0] for r in kills})
        med_t = statistics.median(r[1] for r in kills) if kills else float("nan")
        med_e = statistics.median(r[2] for r in kills) if kills else float("nan")
        print(f"{n:28} {len(kills)}/{len(runs):<5} {','.join(claim_ids)[:40]:40} {med_t:9.2f} {med_e:10.0f}")
    print(f"\nkill rate: {killed_all}/{len(names)} wrong implementations rejected under every seed "
          f"(profile {args.profile}, {args.seeds} seeds)")


if __name__ == "__main__":
    main()
