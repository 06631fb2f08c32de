"""The published schemas and the one result model.

The schema files are valid JSON Schemas that ship inside the package; one ``outcome_dict`` is the cell
of every report; a counterexample is always an object and numbers are numbers (null, never "inf");
and each schema rejects what it must (the old formats).  The reports the suite writes are validated
where they are written: tests/integration/test_cli.py (audit, vectors), test_plugin.py and
test_gallery.py (pytest results)."""

from __future__ import annotations

import json
import os

import jsonschema
import numpy as np
import pytest
from hypothesis import settings

from convspec.reporting.paths import schema_path
from convspec.reporting.results import AUDIT_SCHEMA, RESULTS_SCHEMA, array_json, number, outcome_dict, validate
from tests.conftest import gallery_path

NAMES = ("convspec-results", "convspec-audit", "convspec-vectors", "convspec-counterexample")


@pytest.mark.parametrize("name", NAMES)
def test_schema_files_are_valid_json_schemas(name):
    path = schema_path(name)
    assert os.path.exists(path)
    with open(path) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.fixture(scope="module")
def refuted():
    """A real refuted outcome: the flipped-kernel implementation on conv2d-matches-definition."""
    from convspec.backends.base import load_impl
    from convspec.claims import REGISTRY, load_builtin
    from convspec.search.engine import run_claim
    load_builtin()
    be = load_impl(gallery_path("flipped_kernel"))
    return run_claim(REGISTRY["conv2d-matches-definition"], be, settings.default, impl_arg=gallery_path("flipped_kernel"))


def _results_doc(row):
    return {"schema": RESULTS_SCHEMA, "convspec": "0", "exitstatus": 1, "impl": "x.py", "profile": "dev", "results": [row]}


def test_outcome_dict_is_plain_json(refuted):
    d = outcome_dict(refuted)
    text = json.dumps(d, allow_nan=False)            # no NaN/Infinity anywhere
    assert '"inf"' not in text
    assert d["found"] == "refuted" and d["matches_expected"] is False
    assert d["worst_error_ratio"] is None            # an error where none is allowed: not a number
    cex = d["counterexample"]
    assert isinstance(cex, dict) and cex["worst"]["ratio"] is None and isinstance(cex["worst"]["observed"], float)
    assert "where exact equality is required" in cex["error"] and cex["repro"]
    validate(_results_doc(dict(d, test="test_claim[conv2d-matches-definition-impl]", nodeid="convspec::x",
                               outcome="failed")))


def test_audit_cells_use_the_same_model(refuted):
    from convspec import audit
    from convspec.claims import REGISTRY
    from convspec.search.engine import Outcome
    c = REGISTRY["conv2d-matches-definition"]
    res = audit.AuditResult([_be("impl"), _be("none")], [c], seed=0, profile="dev")
    res.cells[(c.id, "impl")] = refuted
    res.cells[(c.id, "none")] = "none does not provide conv2d"
    doc = audit.to_dict(res)
    assert doc["schema"] == AUDIT_SCHEMA
    validate(doc)
    cell = doc["claims"][0]["results"]["impl"]
    assert cell == {k: v for k, v in outcome_dict(refuted, timings=False).items() if k not in ("claim", "backend")}
    assert doc["claims"][0]["results"]["none"] == {"found": "not-applicable", "reason": "none does not provide conv2d"}
    assert isinstance(Outcome, type)


def _be(name):
    from convspec.backends.base import Backend
    return Backend(name, {}, origin="selftest")


def test_old_formats_are_rejected(refuted):
    row = dict(outcome_dict(refuted), test="test_claim[a-b]", nodeid="convspec::test_claim[a-b]", outcome="failed")
    for bad in ({"worst_error_ratio": "inf"}, {"counterexample": "n1c1h1w1_o1k1x1"}, {"found": "verdict"}):
        with pytest.raises(jsonschema.ValidationError):
            validate(_results_doc(dict(row, **bad)))
    with pytest.raises(jsonschema.ValidationError):
        validate(dict(_results_doc(row), schema="convspec-results/1", created="2024-01-01T00:00:00Z"))


def test_numbers_and_arrays():
    assert number(float("inf")) is None and number(float("nan")) is None and number(np.float32(0.5)) == 0.5
    assert number(np.int64(3)) == 3 and isinstance(number(np.int64(3)), int) and number(1 + 0j) == 1.0
    assert number(1 + 2j) is None
    assert array_json(np.array([1.0, np.inf, np.nan])) == [1.0, None, None]
    assert array_json(np.array([1 + 2j])) == {"real": [1.0], "imag": [2.0]}
    cex = {"problem": "p", "seed": None, "arrays": {"a": array_json(np.array([[1 + 2j]])), "x": [[1.0, None]]},
           "arrays_left_out": [], "error": "e", "worst": None, "message": "m", "repro": "r"}
    row = {"test": "test_claim[a-b]", "nodeid": "n", "outcome": "passed", "claim": "a", "backend": "b", "found": "refuted",
           "expected": "refuted", "matches_expected": True, "counterexample": cex, "worst_error_ratio": None, "examples": 3}
    validate(_results_doc(row))
