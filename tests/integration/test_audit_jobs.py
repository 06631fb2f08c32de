"""``convspec audit --jobs N``: each backend's column in a process of its own gives the serial run's report
byte for byte (user claims and ``--impl`` included), and a column process that dies is reported, cell by cell,
while the other columns stand (convspec/search/pool.py)."""

from __future__ import annotations

import json
import textwrap

import pytest

from convspec.search import pool
from tests.conftest import gallery_path
from tests.integration.test_cli import specs

ARGS = ["audit", "--claims", "lecture*,correlation-commutes,user-*,conv2d-matches-definition",
        "--backends", "numpy,scipy", "--claims-module", "examples/user_claims.py", "--profile", "dev",
        "--seed", "5", "-q", "--format", "json"]


def test_columns_in_processes_give_the_serial_report(tmp_path):
    serial = specs(*ARGS, "--jobs", "1", "--out", str(tmp_path / "1.json"))
    parallel = specs(*ARGS, "--jobs", "2", "--out", str(tmp_path / "2.json"))
    assert serial.returncode == 0 and parallel.returncode == 0, serial.stderr + parallel.stderr
    assert (tmp_path / "1.json").read_text() == (tmp_path / "2.json").read_text()
    doc = json.loads((tmp_path / "2.json").read_text())
    assert [b["name"] for b in doc["backends"]] == ["numpy", "scipy"]
    assert any(c["id"] == "user-conv-is-linear-in-x" for c in doc["claims"])


def test_an_impl_column_runs_beside_the_column_processes(tmp_path):
    args = ["audit", "--claims", "conv2d-matches-definition", "--backends", "numpy", "--impl",
            gallery_path("flipped_kernel"), "--profile", "dev", "-q", "--format", "json"]
    one = specs(*args, "--jobs", "1", "--out", str(tmp_path / "1.json"))
    two = specs(*args, "--jobs", "2", "--out", str(tmp_path / "2.json"))
    assert one.returncode == two.returncode == 1, one.stderr + two.stderr       # the flipped kernel is refuted
    assert (tmp_path / "1.json").read_text() == (tmp_path / "2.json").read_text()


DIES = textwrap.dedent("""
    import os
    from convspec.claims import HOLDS, claim
    from convspec.drawing import strategies

    @claim(id="user-dies-on-scipy", group="user", source="a test", needs={"conv2d"}, expected=HOLDS,
           statement="a claim whose check ends its process on the scipy backend",
           cases=strategies.conv(regimes=("int",), bias=False))
    def _(be, case):
        if be.name == "scipy":
            os._exit(3)
""")


def test_a_column_process_that_dies_is_reported_and_the_audit_goes_on(tmp_path):
    mod = tmp_path / "dies.py"
    mod.write_text(DIES)
    r = specs("audit", "--claims", "user-dies-on-scipy,lecture*", "--backends", "numpy,scipy", "--claims-module",
              str(mod), "--profile", "dev", "-q", "--format", "json", "--jobs", "2",
              "--out", str(tmp_path / "a.json"))
    assert r.returncode == 1, r.stderr
    assert "the audit process of scipy ended (exit status 3)" in r.stderr
    doc = json.loads((tmp_path / "a.json").read_text())
    cells = {(c["id"], b): v for c in doc["claims"] for b, v in c["results"].items()}
    assert cells[("user-dies-on-scipy", "numpy")]["found"] == "holds"
    assert cells[("user-dies-on-scipy", "scipy")]["found"] == "error"
    assert "exit status 3" in cells[("user-dies-on-scipy", "scipy")]["message"]


def test_bad_jobs_values_are_named():
    r = specs("audit", "--jobs", "-1", "--backends", "numpy", "--claims", "lecture*")
    assert r.returncode == 2 and "--jobs must be 0" in r.stderr
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        pool.run(["numpy"], jobs=0)
    assert pool.default_jobs() >= 1
