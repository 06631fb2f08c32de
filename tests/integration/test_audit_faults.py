"""A library that crashes or hangs during the audit is a finding, and the audit finishes (issue 20).

The gallery's ``segfaults`` module stands for a native library whose conv dies by SIGSEGV on inputs wider than
3; it runs behind the worker boundary, as every zoo backend does.  The audit reports it as a library fault with
the shrunk problem and a repro command, keeps the verdicts of the other backends, and every format carries the
finding.  (A hang takes the same path: the worker's hang is a ContractViolation with ``fault == "hung"``,
tests/integration/test_isolation.py.)
"""

from __future__ import annotations

import json
import os

import pytest

from convspec import audit
from convspec.backends.registry import get
from convspec.claims import load_builtin
from convspec.isolation.loader import load
from convspec.reporting.results import validate
from convspec.search import profiles

load_builtin()
CLAIM = "conv2d-matches-definition"
ISOLATED = os.path.join(os.path.dirname(os.path.dirname(__file__)), "gallery", "impls_isolated")


@pytest.fixture(scope="module")
def result():
    be = load(os.path.join(ISOLATED, "segfaults.py"), isolation="process")
    be.library, be.version = "segfaulting-lib", "0.0"
    try:
        yield audit.run([get("numpy"), be], claims_pattern=CLAIM, base=profiles.get("dev"), progress=False)
    finally:
        be.close()


def test_a_crash_is_a_finding_and_the_audit_goes_on(result):
    found = [(be.name, v.failure.fault, v.case.problem) for _, be, v in audit.faults(result)]
    assert [(n, f) for n, f, _ in found] == [(result.backends[1].name, "crashed")], found
    assert found[0][2].spatial[-1] > 3, found      # a problem past the seam (inputs wider than 3 crash)
    assert result.cells[(CLAIM, "numpy")].ok          # the other backends' verdicts are all there


def test_every_format_reports_the_faults(result):
    text = audit.render(result, "text")
    assert "library faults (findings" in text and "segfaulting-lib 0.0) crashed on valid input n" in text
    assert "SIGSEGV" in text and "reproduce: python -m convspec repro " + CLAIM in text
    md = audit.render(result, "markdown")
    assert "### Library faults" in md and "segfaulting-lib" in md
    doc = json.loads(audit.render(result, "json"))
    validate(doc)
    assert [f["fault"] for f in doc["faults"]] == ["crashed"]
    assert all(f["repro"] and f["descriptor"] in f["repro"] for f in doc["faults"])
    assert "<h2>Library faults</h2>" in audit.render(result, "html")
