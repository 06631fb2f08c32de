"""What ``convspec audit --jobs N`` costs and buys (issue 20): the same audit run with each ``--jobs`` value, one
subprocess at a time; prints the wall time of each, the speed-up over the first, whether every run's JSON report
is byte for byte the same (it must be: a column's verdicts do not depend on the process it runs in), and the
cells whose verdict is not the expected one.

    python benchmarks/audit_jobs.py [--backends zoo] [--claims GLOBS] [--jobs 1,2] [--profile dev] [--seed 0]
                                    [--rows off|on]

The default is the zoo audit as ``tox -e zoo`` and ``.ci/run`` run it (rows off, the dev budget).  Run it on a
quiet machine: another job on the same cores changes the figures, not the reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def run(args, jobs: int, out: str) -> tuple[float, int]:
    env = dict(os.environ, CONVSPEC_ROWS="0" if args.rows == "off" else "1")
    cmd = [sys.executable, "-m", "convspec", "audit", "--backends", args.backends, "--profile", args.profile,
           "--seed", str(args.seed), "--jobs", str(jobs), "--format", "json", "--out", out, "-q"]
    if args.claims:
        cmd += ["--claims", args.claims]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        sys.exit(f"audit --jobs {jobs} failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
    return wall, r.returncode


def unexpected(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return [f"{c['id']} on {b}: expected {v['expected']}, found {v['found']}"
            for c in doc["claims"] for b, v in c["results"].items() if v.get("matches_expected") is False]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="zoo")
    ap.add_argument("--claims", default="")
    ap.add_argument("--jobs", default="1,2", help="comma-separated --jobs values, the first is the baseline")
    ap.add_argument("--profile", default="dev")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", choices=("on", "off"), default="off")
    args = ap.parse_args(argv)
    values = [int(j) for j in args.jobs.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        reports, walls = [], []
        for j in values:
            out = os.path.join(tmp, f"jobs{j}.json")
            wall, status = run(args, j, out)
            walls.append(wall)
            reports.append(out)
            print(f"--jobs {j}: {wall:7.1f} s wall ({wall / 60:.1f} min), speed-up {walls[0] / wall:.2f}x, "
                  f"exit {status}", flush=True)
        texts = [open(p, encoding="utf-8").read() for p in reports]
        same = all(t == texts[0] for t in texts)
        doc = json.loads(texts[0])
        s = doc["summary"]
        print(f"reports identical across --jobs {args.jobs}: {same}")
        print(f"cells: {s['total']} run, {s['matched']} as expected, {s['not_applicable']} not applicable; "
              f"{len(doc['backends'])} backends")
        for line in unexpected(reports[0]):
            print("  unexpected:", line)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
