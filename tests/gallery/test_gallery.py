"""Bug-finding power: every wrong implementation of the gallery is rejected by the claims run
against it as an --impl plugin, and the correct plugins pass."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import settings

from convspec.claims import all_claims, applicable
from convspec.search.engine import run_claim
from tests.conftest import gallery_names, gallery_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WRONG = gallery_names(lambda n: not n.startswith("correct_"))
CORRECT = gallery_names(lambda n: n.startswith("correct_"))


def first_rejection(be, base=None):
    """Run the claims in registry order until one rejects ``be``; return (claim id, outcome) or None."""
    for c in all_claims():
        if c.group == "user" or not applicable(c, be)[0]:
            continue
        o = run_claim(c, be, base or settings.default)
        if not o.ok:
            return c.id, o
    return None


def test_gallery_is_big_enough():
    assert len(WRONG) >= 15, WRONG


@pytest.mark.parametrize("name", WRONG)
def test_wrong_implementation_is_rejected(name, load):
    from tests.twins.test_twins import detect_only
    hit = first_rejection(load(name), detect_only())           # rejection, not shrinking, is the point here
    assert hit is not None, f"no claim rejects the wrong implementation {name}"


@pytest.mark.parametrize("name", CORRECT)
def test_correct_implementation_passes(name, load):
    hit = first_rejection(load(name))
    assert hit is None, f"{name} is correct but {hit[0]} rejects it: {hit[1].message}"


def _pytest(*args, timeout=600):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVSPEC_")}
    env["PYTHONPATH"] = ROOT
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--backends", "none",
                           "--hypothesis-profile", "dev", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_gate_cli_passes_correct_and_fails_wrong(tmp_path):
    """From the checkout, with the two-word --impl; reports validate against their schema.  (The conv2d
    claims only: test_correct_implementation_passes gates correct_torch with every claim.)"""
    ok = _pytest("--impl", gallery_path("correct_torch"), "--convspec-json", str(tmp_path / "r.json"),
                 "--junitxml", str(tmp_path / "j.xml"), "--claims", "conv2d-*")
    assert ok.returncode == 0, ok.stdout[-3000:]
    assert "convspec implementation:" in ok.stdout and "convspec capabilities:" in ok.stdout
    import json

    from convspec.reporting.results import validate
    doc = json.loads((tmp_path / "r.json").read_text())
    validate(doc)
    assert doc["schema"] == "convspec-results/2" and any(r["found"] == "holds" for r in doc["results"])
    assert all(r["nodeid"].startswith("convspec::test_claim[") for r in doc["results"])
    assert "<testsuite" in (tmp_path / "j.xml").read_text()
    bad = _pytest("--impl", gallery_path("flipped_kernel"), "--convspec-json", str(tmp_path / "b.json"),
                  "--claims", "conv2d-*")
    assert bad.returncode == 1, bad.stdout[-3000:]
    assert "reproduce:" in bad.stdout and "-m convspec repro" in bad.stdout
    validate(json.loads((tmp_path / "b.json").read_text()))


def test_gate_cli_usage_errors(tmp_path):
    r = _pytest("--impl=" + str(tmp_path / "missing.py"))
    assert r.returncode == 4 and "no such file" in r.stderr and "Traceback" not in r.stderr + r.stdout
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    r = _pytest("--impl=" + str(empty), "--isolation", "none")
    assert r.returncode == 4 and "defines none of the contract" in r.stderr
    broken = tmp_path / "broken.py"
    broken.write_text("import nonexistent_module_xyz\n")
    r = _pytest("--impl=" + str(broken), "--isolation", "none")
    assert r.returncode == 4 and "import failed" in r.stderr and "Traceback" not in r.stderr


def test_known_failure_files(tmp_path):
    xf = tmp_path / "xfails.txt"
    xf.write_text("test_claim[conv2d-matches-definition-impl]  # known: we flip the kernel\n"
                  "test_claim[answer-formula-is-conv-layer-impl]\n"
                  "test_claim[no-such-claim-impl]  # stale entry\n")
    r = _pytest("--impl=" + gallery_path("flipped_kernel"), "--xfails-file=" + str(xf),
                "--claims", "conv2d-matches-definition,answer-formula-is-conv-layer")
    assert r.returncode == 0, r.stdout[-3000:]
    assert "2 xfailed" in r.stdout
    assert "no-such-claim-impl" in r.stdout and "matches no collected test" in r.stdout
