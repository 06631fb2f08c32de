"""A backend's declared departures (the zoo's DEPARTURES, scipy's): the claim is expected refuted on it -- by a wrong
value or by raising -- and a departure that no longer happens (a fixed library) is a verdict that differs."""

from __future__ import annotations

import numpy as np
from hypothesis import settings

from convspec.backends.base import Backend, Capabilities
from convspec.backends.registry import get
from convspec.claims import REGISTRY, expected_for, load_builtin
from convspec.search.engine import run_claim

load_builtin()
DEF = "conv2d-matches-definition"
RECORD = {DEF: {"statement": "test", "source": "test"}}
FAST = settings(settings.default, max_examples=20)


def _backend(fn, departures):
    return Backend("dep", {"conv2d": fn}, Capabilities(dtypes=("f64",)), origin="selftest", departures=departures)


def _raises(x, w, b=None, **kw):
    raise ValueError("this library refuses every conv")


def test_a_departure_changes_the_expected_verdict():
    assert expected_for(REGISTRY[DEF], _backend(_raises, RECORD)) == "refuted"
    assert expected_for(REGISTRY[DEF], _backend(_raises, {})) == "holds"


def test_a_departure_by_raising_matches_and_without_the_record_is_broken():
    o = run_claim(REGISTRY[DEF], _backend(_raises, RECORD), FAST)
    assert o.ok and o.found == "refuted" and "declared departure" in o.message
    o = run_claim(REGISTRY[DEF], _backend(_raises, {}), FAST)
    assert not o.ok and o.found == "broken"


def test_a_departure_that_no_longer_happens_is_reported():
    numpy_conv2d = get("numpy").ops["conv2d"]
    o = run_claim(REGISTRY[DEF], _backend(lambda *a, **k: np.asarray(numpy_conv2d(*a, **k)), RECORD), FAST)
    assert not o.ok and o.found == "no-counterexample"


def test_a_departure_names_further_claims_by_alias():
    """One library behaviour that refutes several claims is written once; each further claim maps to the claim
    id holding the record (findings list it once).  An alias to nothing is refused, naming it."""
    import pytest

    from convspec.backends.zoo import departures, resolve
    rec = {"statement": "s", "source": "found by convspec"}
    out = resolve({"a": rec, "b": "a"})
    assert out["a"] is rec and out["b"]["statement"] == "s" and out["b"]["same_as"] == "a"
    with pytest.raises(ValueError, match="DEPARTURES\\['b'\\] = 'c'"):
        resolve({"a": rec, "b": "c"})
    with pytest.raises(ValueError, match="DEPARTURES\\['c'\\] = 'b'"):
        resolve({"a": rec, "b": "a", "c": "b"})
    tf = departures("tensorflow")
    assert tf["im2col-matmul"]["same_as"] == "conv2d-matches-definition"
