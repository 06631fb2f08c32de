"""Scale-out figures (issue 14): the gate tests' examples/s under ``convspec fuzz`` at 1, 2 and all
cores, and the time to kill a bug that the gate's own budget misses, from an empty database and
after a fuzz run.

    python benchmarks/fuzz.py [--seconds 30] [--kill-minutes 4] [--impl FILE] [--bug FILE] [--json out.json]

* rate: ``convspec fuzz --impl examples/conv_correct.py -n K`` for ``--seconds`` each (a correct
  implementation, so no time goes to shrinking); examples/s counts every example every process ran
  between the first example and the deadline (start-up and the last rounds left out).
* kill: tests/gallery/impls_fuzz/rare_seven_channels.py (wrong only for C_out == 7 with a batch and a
  kernel taller than one row).  (a) the ``ci`` gate from an empty database; (b) ``convspec fuzz -n 2``
  from an empty database until its first failure; (c) the ``ci`` gate reading that database.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _job(impl, db, seed=1):
    return dict(impl=dict(impl=impl, isolation="process"), claims=None, claims_modules=None, repro_dir=None,
                database=db, seed=seed)


def rate(impl: str, processes: int, seconds: float) -> dict:
    from convspec import fuzz
    with tempfile.TemporaryDirectory() as d:
        stats: dict = {}
        fuzz.run(_job(impl, d), processes, seconds / 60, out=open(os.devnull, "w"), stats=stats)
    steady = stats["running_until_s"] - stats.get("first_example_s", 0.0)
    return {"processes": processes, "examples": stats["examples_running"], "seconds": round(steady, 1),
            "examples_per_s": round(stats["examples_running"] / steady, 1), "wall_s": round(stats["seconds"], 1)}


def gate(impl: str, db: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVSPEC_")}
    env["PYTHONPATH"] = ROOT
    if db:
        env["CONVSPEC_DATABASE"] = db
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "0",
                            "--impl", impl, "--backends", "none", "--hypothesis-profile", "ci", "-q",
                            "--convspec-json", out], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        rows = json.load(open(out))["results"]
    failed = [r for r in rows if r["outcome"] == "failed"]
    return {"database": bool(db), "exit": r.returncode, "wall_s": round(wall, 1), "failed_tests": len(failed),
            "examples_to_first_failure": min((f["examples"] for f in failed), default=None),
            "seconds_in_failing_tests": round(sum(f.get("seconds", 0) for f in failed), 2)}


def kill(bug: str, minutes: float) -> dict:
    from convspec import fuzz
    with tempfile.TemporaryDirectory() as d:
        before = gate(bug, None)
        stats: dict = {}
        found = fuzz.run(dict(_job(bug, d), max_failures=1), 2, minutes, out=open(os.devnull, "w"), stats=stats)
        after = gate(bug, d)
    return {"gate_empty_database": before,
            "fuzz_n2_from_empty": {"first_failure_s": None if stats["first_failure_s"] is None
                                   else round(stats["first_failure_s"], 1), "examples": stats["examples"],
                                   "found": [f.test for f in found]},
            "gate_after_fuzz": after}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--kill-minutes", type=float, default=4)
    ap.add_argument("--impl", default=os.path.join(ROOT, "examples", "conv_correct.py"))
    ap.add_argument("--bug", default=os.path.join(ROOT, "tests", "gallery", "impls_fuzz", "rare_seven_channels.py"))
    ap.add_argument("--json")
    a = ap.parse_args()
    cores = sorted({1, 2, os.cpu_count() or 1})
    res = {"cpu_count": os.cpu_count(), "rate": [rate(a.impl, n, a.seconds) for n in cores]}
    for r in res["rate"]:
        print(f"-n {r['processes']}: {r['examples_per_s']} examples/s ({r['examples']} in {r['seconds']} s)", flush=True)
    res["kill"] = kill(a.bug, a.kill_minutes)
    print(json.dumps(res["kill"], indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
