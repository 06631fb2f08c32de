"""``convspec audit --jobs N``: each backend's column in a process of its own gives the serial run's report
byte for byte (``--impl`` included, and user claims reach the column processes), and a column process that
dies is reported, cell by cell, while the other columns stand (convspec/search/pool.py)."""

from __future__ import annotations

import json
import textwrap

import pytest

from convspec.search import pool
from tests.conftest import gallery_path
from tests.integration.test_cli import ROOT, specs

CLAIMS = "lecture*,answer-formula-is-convolution"


def _serial_and_parallel(names, impl=None):
    """The JSON report of the serial audit (one process) and of ``pool.run`` (a column process per backend), both
    of ``names`` (and ``impl``, run beside the columns in this process).  (User claims in the column processes:
    the dying column's test below loads one with --claims-module.)"""
    from convspec import audit
    from convspec.backends import registry
    from convspec.search import profiles
    base = profiles.get("dev")
    serial = audit.run([registry.get(n) for n in names] + ([impl] if impl else []), claims_pattern=CLAIMS,
                       base=base, seed=5, progress=False, profile="dev")
    extra = (lambda: audit.run([impl], claims_pattern=CLAIMS, base=base, seed=5, progress=False,
                               profile="dev")) if impl else None
    parallel = pool.run(names, jobs=2, claims_pattern=CLAIMS, profile="dev", seed=5, progress=False, extra=extra)
    return audit.render(serial, "json"), audit.render(parallel, "json")


def test_columns_in_processes_give_the_serial_report_impl_column_included(monkeypatch):
    from convspec.backends.base import load_impl
    monkeypatch.chdir(ROOT)
    one, two = _serial_and_parallel(["numpy", "scipy"], load_impl(gallery_path("flipped_kernel")))
    assert one == two
    doc = json.loads(two)
    names = [b["name"] for b in doc["backends"]]
    assert names[:2] == ["numpy", "scipy"] and len(names) == 3 and doc["summary"]["total"] > 0
    assert any(names[2] in c["results"] and c["results"][names[2]]["found"] != "not-applicable"
               for c in doc["claims"])          # the --impl column ran, in this process, beside the columns


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
    r = specs("audit", "--claims", "user-dies-on-scipy", "--backends", "numpy,scipy", "--claims-module",
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
