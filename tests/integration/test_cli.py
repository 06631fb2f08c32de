"""The command line: repro commands reproduce, vectors round-trip (their manifest valid against its
schema), audits are deterministic, pick up user claims, validate against convspec-audit and fit 100
columns, usage errors exit 2 with one line, repro files go to the configured directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import gallery_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def specs(*args, timeout=600):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "convspec", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_repro_command_reproduces_a_failure():
    from hypothesis import settings

    from convspec.backends.base import load_impl
    from convspec.claims import REGISTRY, load_builtin
    from convspec.search.engine import run_claim
    load_builtin()
    be = load_impl(gallery_path("flipped_kernel"))
    out = run_claim(REGISTRY["conv2d-matches-definition"], be, settings.default,
                    impl_arg=gallery_path("flipped_kernel"))
    from convspec.reporting.paths import program
    prefix = " ".join(program())
    assert not out.ok and out.repro.startswith(prefix + " repro conv2d-matches-definition --impl ")
    import shlex
    r = specs(*shlex.split(out.repro)[3:])
    assert r.returncode == 1 and "result: mismatch" in r.stdout, r.stdout + r.stderr
    assert str(out.case.problem) in r.stdout


def test_repro_seeded_case_holds_on_a_correct_backend():
    r = specs("repro", "conv2d-matches-definition", "--backend", "torch", "--case", "n2c4h7w9_o6k3x2_s2x1_p1x0_d1x2_g2",
              "--seed", "3")
    assert r.returncode == 0 and "result: holds" in r.stdout, r.stdout + r.stderr


def test_vectors_round_trip(tmp_path):
    r = specs("vectors", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["schema"] == "convspec-vectors/2" and len(m["vectors"]) > 300
    from convspec.reporting.results import validate
    validate(m)
    ids = {v["id"] for v in m["vectors"]}
    for needle in ("kernel-larger-than-input", "padding-beyond-kernel", "stride-beyond-kernel", "depthwise",
                   "batch-1", "batch-5", "correlate2d/even-kernel/same", "conv1d/padding-pairs", "conv3d/grouped",
                   "conv_transpose3d/op-below-dilation", "conv1d_input/strided", "conv3d_weight/strided"):
        assert any(needle in i for i in ids), needle
    ops = {v["op"] for v in m["vectors"]}
    from convspec.model.contract import CONTRACT
    assert ops == set(CONTRACT), set(CONTRACT) - ops           # every op of the contract, every rank
    good = specs("check-vectors", str(tmp_path), "--impl", gallery_path("correct_torch"), "--isolation", "none")
    assert good.returncode == 0 and " 0 failed" in good.stdout, good.stdout
    torch_all = specs("check-vectors", str(tmp_path), "--backend", "torch")
    assert torch_all.returncode == 0 and "0 failed, 0 skipped" in torch_all.stdout, torch_all.stdout
    scipy_all = specs("check-vectors", str(tmp_path), "--backend", "scipy")       # no transposed convs: skipped
    assert scipy_all.returncode == 0 and " 0 failed" in scipy_all.stdout, scipy_all.stdout
    flip = specs("check-vectors", str(tmp_path), "--impl", gallery_path("transpose_forgets_flip"), "--isolation", "none")
    assert flip.returncode == 1 and "FAIL conv_transpose2d" in flip.stdout, flip.stdout
    bad = specs("check-vectors", str(tmp_path), "--impl", gallery_path("same_centring_swapped"), "--isolation", "none")
    assert bad.returncode == 1 and "FAIL correlate2d" not in bad.stdout and "FAIL convolve2d" in bad.stdout


def test_check_vectors_still_reads_version_1_sets(tmp_path):
    """A convspec-vectors/1 set (conv2d and the signal ops, padding one int per axis, no rank) is still served."""
    assert specs("vectors", "--out", str(tmp_path)).returncode == 0
    m = json.loads((tmp_path / "manifest.json").read_text())
    old = [dict(v) for v in m["vectors"] if v["op"] in ("conv2d", "convolve2d", "correlate2d")]
    for v in old:
        v.pop("rank")
        if v["op"] == "conv2d":
            v["params"] = {**v["params"], "padding": [lo for lo, _ in v["params"]["padding"]]}
    (tmp_path / "manifest.json").write_text(json.dumps({**m, "schema": "convspec-vectors/1", "vectors": old}))
    from convspec.reporting.results import validate
    validate(json.loads((tmp_path / "manifest.json").read_text()))
    r = specs("check-vectors", str(tmp_path), "--backend", "torch")
    assert r.returncode == 0 and f"{len(old)} passed, 0 failed" in r.stdout, r.stdout


def test_audit_is_deterministic_and_takes_user_claims(tmp_path):
    args = ["audit", "--claims", "lecture*,correlation-commutes,user-*", "--backends", "numpy,scipy",
            "--claims-module", "examples/user_claims.py", "--profile", "dev", "--seed", "5", "-q", "--format", "json"]
    a, b = specs(*args, "--out", str(tmp_path / "a.json")), specs(*args, "--out", str(tmp_path / "b.json"))
    assert a.returncode == 0 and b.returncode == 0, a.stderr
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["schema"] == "convspec-audit/2" and doc["profile"] == "dev"
    from convspec.reporting.results import validate
    validate(doc)
    ids = [c["id"] for c in doc["claims"]]
    assert "user-conv-is-linear-in-x" in ids and ids[0].startswith("lecture")
    cc = next(c for c in doc["claims"] if c["id"] == "correlation-commutes")
    cell = cc["results"]["numpy"]
    assert cell["found"] == "refuted" and cell["counterexample"]["problem"]
    assert cell["counterexample"]["worst"]["ratio"] is None and "exact equality" in cell["counterexample"]["error"]


def test_audit_html_is_self_contained(tmp_path):
    r = specs("audit", "--claims", "correlation-commutes,flipped-correlation-same-mode", "--backends", "scipy",
              "--profile", "dev", "-q", "--format", "html", "--out", str(tmp_path / "a.html"))
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "a.html").read_text()
    assert html.startswith("<!doctype html>") and "<table class=h>" in html and "http" not in html.split("<body>")[0]


def test_text_audit_fits_100_columns():
    """Every built-in backend and claim, plus an implementation with a real counterexample: <= 100 columns."""
    from hypothesis import settings

    from convspec import audit
    from convspec.backends import registry as backends
    from convspec.backends.base import load_impl
    from convspec.claims import REGISTRY, all_claims, applicable, load_builtin
    from convspec.search.engine import Outcome, run_claim
    load_builtin()
    bes = backends.select("all")
    impl = load_impl(gallery_path("flipped_kernel"))
    claims = all_claims()
    res = audit.AuditResult(bes + [impl], claims)
    for c in claims:
        for be in bes:
            ok, why = applicable(c, be)
            res.cells[(c.id, be.name)] = why if not ok else Outcome(
                c, be.name, "conditional" if c.expected == "conditional" else c.expected, True, worst_ratio=float("inf"))
    bad = run_claim(REGISTRY["conv2d-matches-definition"], impl, settings.default, impl_arg=gallery_path("flipped_kernel"))
    res.cells[("conv2d-matches-definition", impl.name)] = bad
    text = audit.render_text(res)
    widths = [len(line) for line in text.splitlines()]
    assert max(widths) <= 100, [line for line in text.splitlines() if len(line) > 100]
    assert "unexpected verdicts:" in text and "where exact equality is required" in text
    assert " inf" not in text and "e+" not in text.split("unexpected verdicts:")[0]


def test_repro_files_go_to_the_configured_directory(tmp_path, monkeypatch):
    import numpy as np

    from convspec.model.case import Case
    from convspec.model.problem import Problem
    from convspec.search.engine import save_case
    monkeypatch.setenv("CONVSPEC_REPRO_DIR", str(tmp_path / "cases"))
    case = Case(Problem(n=1, c=1, spatial=(2, 2), o=1, kernel=(1, 1)), {"x": np.ones((1, 1, 2, 2)), "w": np.ones((1, 1, 1, 1))})
    path = save_case(case)
    assert path.startswith(str(tmp_path / "cases")) and os.path.exists(path)
    monkeypatch.delenv("CONVSPEC_REPRO_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert save_case(case).startswith(str(tmp_path / "xdg" / "convspec" / "cases"))


def test_usage_errors_exit_2():
    r = specs("audit", "--impl", "/nonexistent/impl.py", "-q")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    r = specs("repro", "no-such-claim", "--case", "n1c1h1w1_o1k1x1", "--seed", "0")
    assert r.returncode == 2 and "unknown claim" in r.stderr
    r = specs("repro", "conv2d-matches-definition", "--case", "garbage", "--seed", "0")
    assert r.returncode == 2 and "cannot parse" in r.stderr
