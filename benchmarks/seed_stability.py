"""Seed stability of the gate's verdicts (issue 18): gate every planted bug of ``benchmarks/planted/`` (and its
two correct controls) with ``--hypothesis-seed`` 1..5 and count the verdicts that differ between seeds.

Each run is one subprocess, one at a time (the wall time of each is printed)::

    python -m pytest --impl benchmarks/planted/<bug>.py --backends none --convspec-profile ci -q -p no:randomly
           --hypothesis-seed S --convspec-json OUT.json [--claims <the definitional claims of its ops>]

A verdict is ``killed`` (pytest exit status 1: a test failed), ``passed`` (0) or ``error:<status>`` (anything
else: a usage error or an interrupted run, never counted as a kill).  Planted bugs declare ``TRIGGER`` (the
factors that must hold together) and ``SOURCE``; the controls have no trigger and must pass on every seed.

By default only each op's definitional claim runs (``conv2d-matches-definition``, ``convolve2d-...``,
``correlate2d-...``): the claim whose pinned examples are the covering-array rows, and the one a wrong value
fails first; ``--all-claims`` gates the whole claim set (much slower).  ``--rows off`` runs the same gate with
:func:`convspec.search.engine.coverage_examples` returning nothing (the search as it was before the covering arrays:
the "before" figure); ``--rows on`` sets the engine's ``ROWS_ENABLED`` switch (the "after" figure).

    python benchmarks/seed_stability.py [--quick] [--seeds 1,2,3,4,5] [--rows on|off] [--all-claims]
                                        [--only NAME,...] [--json OUT]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLANTED = os.path.join(ROOT, "benchmarks", "planted")

#: the definitional claim of each op a planted module may define
DEFINITIONAL = {"conv2d": "conv2d-matches-definition", "convolve2d": "convolve2d-matches-definition",
                "correlate2d": "correlate2d-matches-definition"}

#: runs pytest in this process with the covering-array rows switched off (every loaded engine module's
#: coverage_examples returns []: the gate as it searched before the rows were wired in) or forced on
#: (``ROWS_ENABLED = True``, the engine's switch while the lead keeps them off); argv[1] is "off" or "on"
ROWS_SWITCH = ("import sys, pytest\n"
               "mode = sys.argv.pop(1)\n"
               "class Rows:\n"
               "    def pytest_configure(self, config):\n"
               "        import convspec.search.engine as e\n"
               "        for m in {e, *(m for m in list(sys.modules.values()) if getattr(m, '__name__', '').endswith('.engine'))}:\n"
               "            if not hasattr(m, 'coverage_examples'):\n"
               "                continue\n"
               "            if mode == 'off':\n"
               "                m.coverage_examples = lambda claim, be: []\n"
               "            elif hasattr(m, 'ROWS_ENABLED'):\n"
               "                m.ROWS_ENABLED = True\n"
               "sys.exit(pytest.main(sys.argv[1:], plugins=[Rows()]))\n")
NO_ROWS = None      # (kept for importers: use rows_cmd)


def rows_cmd(rows: str, args: list) -> list:
    """The command line of one gate: ``rows`` is "default" (the engine as it is), "on" or "off"."""
    if rows == "default":
        return [sys.executable, "-m", "pytest", *args]
    return [sys.executable, "-c", ROWS_SWITCH, rows, *args]


def planted() -> list[dict]:
    """Every module of benchmarks/planted/ (controls first): name, path, trigger, source, ops defined."""
    out = []
    for f in sorted(os.listdir(PLANTED)):
        if not f.endswith(".py") or f.startswith("_"):
            continue
        path = os.path.join(PLANTED, f)
        tree = ast.parse(open(path).read())
        consts = {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  for t in n.targets if isinstance(t, ast.Name) and t.id in ("TRIGGER", "SOURCE")}
        ops = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in DEFINITIONAL]
        ops += [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name) and t.id in DEFINITIONAL]
        out.append({"name": f[:-3], "path": os.path.relpath(path, ROOT), "trigger": tuple(consts.get("TRIGGER", ())),
                    "source": consts.get("SOURCE", "?"), "ops": sorted(set(ops))})
    return sorted(out, key=lambda m: (bool(m["trigger"]), m["name"]))


def gate(mod: dict, seed: int, *, rows: str, all_claims: bool, profile: str, timeout: float) -> dict:
    """One gate run: verdict, wall seconds, the refuted claims."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        args = ["--impl", mod["path"], "--backends", "none", "--convspec-profile", profile, "-q", "-p", "no:randomly",
                "--hypothesis-seed", str(seed), "--convspec-json", out]
        if not all_claims:
            args += ["--claims", ",".join(DEFINITIONAL[op] for op in mod["ops"])]
        cmd = rows_cmd(rows, args)
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        wall = time.perf_counter() - t0
        refuted, examples, why = [], 0, ""
        if os.path.exists(out):
            doc = json.load(open(out))
            refuted = sorted({r["claim"] for r in doc.get("results", []) if r.get("matches_expected") is False})
            examples = sum(int(r.get("examples") or 0) for r in doc.get("results", []))
            why = "; ".join((r.get("message") or "")[:300] for r in doc.get("results", [])
                            if r.get("matches_expected") is False)
    verdict = {0: "passed", 1: "killed"}.get(rc, f"error:{rc}")
    return {"verdict": verdict, "seconds": round(wall, 1), "refuted": refuted, "examples": examples,
            "why": why}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated --hypothesis-seed values")
    ap.add_argument("--quick", action="store_true", help="seeds 1 and 2 only")
    ap.add_argument("--rows", choices=("default", "on", "off"), default="default",
                    help="covering-array rows: as the engine has them (default), forced on, or off (the 'before' gate)")
    ap.add_argument("--all-claims", action="store_true", help="gate every claim, not only the definitional ones")
    ap.add_argument("--only", default="", help="comma-separated planted module names")
    ap.add_argument("--profile", default="ci")
    ap.add_argument("--timeout", type=float, default=1800, help="per-run limit in seconds")
    ap.add_argument("--json", default="", help="write the per-run results here")
    a = ap.parse_args(argv)
    seeds = [1, 2] if a.quick else [int(s) for s in a.seeds.split(",")]
    mods = [m for m in planted() if not a.only or m["name"] in a.only.split(",")]
    print(f"seed stability: {len(mods)} modules x seeds {seeds}, profile {a.profile}, "
          f"rows {a.rows}, claims {'all' if a.all_claims else 'definitional'}", flush=True)
    t_all = time.perf_counter()
    for m in mods:
        m["runs"] = {}
        for s in seeds:
            r = gate(m, s, rows=a.rows, all_claims=a.all_claims, profile=a.profile, timeout=a.timeout)
            m["runs"][s] = r
            print(f"  {m['name']:24} seed {s}: {r['verdict']:8} {r['seconds']:7.1f} s  {r['examples']:5} ex  {','.join(r['refuted'])}",
                  flush=True)
    total = time.perf_counter() - t_all

    print(f"\n{'module':24} {'trigger factors':52} " + " ".join(f"s{s:<6}" for s in seeds) + " differs")
    differ = 0
    tally = {"all": 0, "some": 0, "none": 0}
    controls_ok = controls = 0
    for m in mods:
        vs = [m["runs"][s]["verdict"] for s in seeds]
        d = len(set(vs)) > 1
        differ += d
        trig = " AND ".join(m["trigger"]) or "(control)"
        print(f"{m['name']:24} {trig[:52]:52} " + " ".join(f"{v:7}" for v in vs) + f" {'YES' if d else 'no'}")
        if not m["trigger"]:
            controls += 1
            controls_ok += all(v == "passed" for v in vs)
        else:
            k = sum(v == "killed" for v in vs)
            tally["all" if k == len(vs) else "some" if k else "none"] += 1
    bugs = len(mods) - controls
    print(f"\nmodules whose verdict differs between seeds: {differ}/{len(mods)}")
    print(f"planted bugs killed on all {len(seeds)} seeds: {tally['all']}/{bugs}, on some: {tally['some']}, "
          f"on none: {tally['none']}; controls passing on every seed: {controls_ok}/{controls}")
    print(f"total wall time {total:.0f} s for {len(mods) * len(seeds)} runs")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seeds": seeds, "rows": a.rows, "all_claims": a.all_claims, "profile": a.profile,
                       "seconds": round(total, 1), "modules": mods}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
