"""The newcomer test: what a team that uses convspec as its CI gate does, end to end.

Build the wheel from this source tree, install it into a fresh virtual environment that sees the
already-installed dependencies (numpy, scipy, hypothesis, pytest: a ``.pth`` file, no download), and
gate a correct and a broken example implementation (examples/conv_correct.py, conv_broken.py) from a
temporary directory outside the checkout, in the three documented forms:

* ``pytest --impl /abs/path/impl.py`` (two words);
* ``convspec gate module_name`` (the console script);
* ``CONVSPEC_IMPL=module_name pytest``;

asserting the exit codes (0 correct, 1 broken, 4 usage error), the node ids, the shrunk
counterexample and the repro command, and that the code that ran is the installed wheel's.
Marked ``newcomer`` (``tox -e newcomer`` runs it alone); it runs in the README's test command.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLAIM = "conv2d-matches-definition"
GATE_ARGS = ["--backends", "none", "--claims", CLAIM, "--convspec-profile", "dev", "-p", "no:cacheprovider"]

pytestmark = [pytest.mark.newcomer]


def _run(argv, cwd, env=None, timeout=300):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("CONVSPEC_", "PYTEST_", "PYTHON"))}
    e.update(env or {})
    return subprocess.run(argv, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


def _build_wheel(tmp) -> str:
    """Copy the source tree (pyproject, README, convspec/, specs/) aside and build a wheel there, no network."""
    src = tmp / "src"
    src.mkdir()
    for f in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, f), src / f)
    for d in ("convspec", "specs"):
        shutil.copytree(os.path.join(ROOT, d), src / d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp / "dist"
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
              "-w", str(out), str(src)], cwd=str(tmp))
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = list(out.glob("convspec-*.whl"))
    assert len(wheels) == 1, wheels
    return str(wheels[0])


def _fresh_venv(tmp, wheel: str) -> str:
    """A new venv with the wheel installed, seeing this interpreter's installed dependencies."""
    venv = tmp / "venv"
    r = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=str(tmp))
    assert r.returncode == 0, r.stderr
    py = str(venv / "bin" / "python")
    r = _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "-q", wheel], cwd=str(tmp))
    assert r.returncode == 0, r.stdout + r.stderr
    site = _run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=str(tmp)).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    with open(os.path.join(site, "_convspec_newcomer_deps.pth"), "w") as f:
        f.write("\n".join(sorted(deps)) + "\n")
    return str(venv)


def test_wheel_installs_and_gates_from_anywhere(tmp_path):
    t0 = time.perf_counter()
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    for f in ("convspec/__init__.py", "convspec/plugin.py", "convspec/gate.py", "convspec/specs/seed.py",
              "convspec/backends/numpy_backend.py", "convspec/reporting/schemas/convspec-audit.json",
              "convspec/reporting/schemas/convspec-results.json", "convspec/reporting/schemas/convspec-vectors.json"):
        assert f in names, f
    assert not any(n.startswith("specs/") for n in names), "the wheel must not squat the name 'specs'"
    shipped = {n for n in names if n.startswith("convspec/") and n.endswith(".py")}
    for folder, prefix in (("convspec", "convspec/"), ("specs", "convspec/specs/")):
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            rel = os.path.relpath(dirpath, os.path.join(ROOT, folder))
            for f in files:
                if f.endswith(".py") and "__pycache__" not in dirpath:
                    path = prefix + (f if rel == "." else f"{rel}/{f}")
                    assert path in shipped or not os.path.exists(os.path.join(dirpath, "__init__.py")), \
                        f"{path} is not in the wheel (a new subpackage must be listed in pyproject.toml)"
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [line for line in zipfile.ZipFile(wheel).read(meta).decode().splitlines() if line.startswith("Requires-Dist")]
    core = [r for r in requires if "extra ==" not in r]
    assert sorted(r.split()[1].split(">")[0].split("<")[0].split("=")[0] for r in core) == [
        "coverwise", "hypothesis", "ml_dtypes", "numpy", "pytest", "scipy"], core
    venv = _fresh_venv(tmp_path, wheel)
    py, script = os.path.join(venv, "bin", "python"), os.path.join(venv, "bin", "convspec")
    build_s = time.perf_counter() - t0

    work = tmp_path / "team-repo"          # an unrelated directory, outside the checkout
    work.mkdir()
    for f in ("conv_correct.py", "conv_broken.py"):
        shutil.copy(os.path.join(ROOT, "examples", f), work / f)

    r = _run([py, "-c", "import convspec, convspec.plugin; print(convspec.__file__)"], cwd=str(work))
    assert r.returncode == 0 and r.stdout.strip().startswith(venv), r.stdout + r.stderr

    # 1. pytest --impl PATH (two words), from outside the checkout
    good = _run([py, "-m", "pytest", "-v", "--impl", str(work / "conv_correct.py"), *GATE_ARGS,
                 "--convspec-json", str(work / "r.json")], cwd=str(work))
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-2000:]
    assert f"convspec::test_claim[{CLAIM}-example] PASSED" in good.stdout, good.stdout[-3000:]
    doc = json.loads((work / "r.json").read_text())
    assert doc["schema"] == "convspec-results/2" and doc["results"][0]["found"] == "holds"
    bad = _run([py, "-m", "pytest", "--impl", str(work / "conv_broken.py"), *GATE_ARGS], cwd=str(work))
    assert bad.returncode == 1, bad.stdout[-3000:]
    for text in (f"FAILED convspec::test_claim[{CLAIM}-example]", "expected holds, found refuted", "problem: n",
                 "reproduce:", "python -m convspec repro " + CLAIM):
        assert text in bad.stdout, (text, bad.stdout[-3000:])

    # 2. convspec gate MODULE (the console script), same ids and exit codes
    good = _run([script, "gate", "conv_correct", *GATE_ARGS], cwd=str(work))
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-2000:]
    bad = _run([script, "gate", "conv_broken", *GATE_ARGS], cwd=str(work))
    assert bad.returncode == 1 and f"FAILED convspec::test_claim[{CLAIM}-example]" in bad.stdout, bad.stdout[-3000:]
    repro = next(line.strip() for line in bad.stdout.splitlines() if line.strip().startswith("python -m convspec repro"))
    rr = _run([py, *shlex.split(repro)[1:]], cwd=str(work))
    assert rr.returncode == 1 and "result: mismatch" in rr.stdout, rr.stdout + rr.stderr

    # 3. CONVSPEC_IMPL=MODULE pytest
    good = _run([py, "-m", "pytest", *GATE_ARGS], cwd=str(work), env={"CONVSPEC_IMPL": "conv_correct"})
    assert good.returncode == 0, good.stdout[-3000:]
    bad = _run([py, "-m", "pytest", *GATE_ARGS], cwd=str(work), env={"CONVSPEC_IMPL": "conv_broken"})
    assert bad.returncode == 1 and "expected holds, found refuted" in bad.stdout, bad.stdout[-3000:]

    # without an implementation the plugin is inert: a team's own tests run as before, nothing is imported
    (work / "test_team.py").write_text("import sys\n\ndef test_team():\n"
                                       "    assert not any(m.startswith(('torch', 'convspec.backends.zoo.'))\n"
                                       "                   or m.endswith('_backend')\n"
                                       "                   for m in sys.modules)\n")   # no adapter, no library
    own = _run([py, "-m", "pytest", "-p", "no:cacheprovider", "test_team.py"], cwd=str(work))
    assert own.returncode == 0 and "convspec versions" not in own.stdout, own.stdout[-3000:]

    # usage error: one line, exit 4, no traceback
    r = _run([py, "-m", "pytest", "--impl", str(work / "missing.py"), *GATE_ARGS], cwd=str(work))
    assert r.returncode == 4 and "no such file" in r.stderr and "Traceback" not in r.stderr + r.stdout
    print(f"newcomer: wheel + venv {build_s:.1f}s, total {time.perf_counter() - t0:.1f}s")
