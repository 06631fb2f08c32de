"""Helpers shared by the self-tests that check single claims (test_claims_corrections, test_pitfalls):
a backend with ops replaced, the stage at which a claim rejects a case, and whether a claim's search
reaches (or misses) a kind of case."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from convspec.backends import registry as backends
from convspec.backends.base import Backend
from convspec.claims import REGISTRY
from convspec.search.engine import run_once

FIND = settings(max_examples=600, database=None, suppress_health_check=list(HealthCheck), deadline=None,
                phases=[Phase.generate])          # a member is enough: no shrinking
MISS = settings(FIND, max_examples=200)


def with_ops(base, name, **ops):
    """The built-in backend ``base`` with some ops replaced, named ``name``."""
    b = backends.get(base)
    return Backend(name, {**b.ops, **ops}, b.caps, origin="selftest")


def stage(claim_id, be, case, fragment):
    """The claim rejects ``case`` on ``be`` with a message containing ``fragment`` (the stage that failed)."""
    status, msg = run_once(REGISTRY[claim_id], be, case)
    assert status == "mismatch", f"{claim_id} on {be.name}: {status}: {msg}"
    assert fragment in msg, f"{claim_id} on {be.name} failed at another stage than {fragment!r}: {msg}"


def reaches(strategy, predicate, what):
    """A case of ``strategy`` satisfying ``predicate`` (the search reaches ``what``)."""
    try:
        return find(strategy, predicate, settings=FIND)
    except NoSuchExample:
        pytest.fail(f"the search never reaches {what}")


def misses(strategy, predicate):
    """No case of ``strategy`` satisfies ``predicate``."""
    with pytest.raises(NoSuchExample):
        find(strategy, predicate, settings=MISS)
