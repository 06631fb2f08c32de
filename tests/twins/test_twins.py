"""Every property can fail: each claim is run against a deliberately wrong implementation (its
'twin') and must reject it -- a holds-claim finds a counterexample, a refuted claim finds none, a
conditional claim sees its condition broken.  The twin is named in the claim's declaration (``twin=``, a module
of tests/gallery/twins/ or an --impl module of tests/gallery/impls/)."""

from __future__ import annotations

import pytest
from hypothesis import Phase, settings

from convspec.claims import REGISTRY, applicable, load_builtin
from convspec.search.engine import run_claim
from tests.conftest import twin_backend, twin_path

load_builtin()

#: claims that need no twin: a user's claims (--claims-module) are theirs to show able to fail
EXEMPT_GROUPS = ("user",)


def detect_only():
    """The profile's settings without the shrink phase: a twin must be rejected; how small the
    counterexample gets is tested elsewhere (test_envelope, test_isolation, test_pitfalls), not here."""
    return settings(settings.default, phases=[ph for ph in settings.default.phases if ph != Phase.shrink])


def test_every_builtin_claim_has_a_twin():
    missing = sorted(cid for cid, c in REGISTRY.items() if not c.twin and c.group not in EXEMPT_GROUPS)
    assert not missing, f"claims without a wrong twin (a property that cannot be shown to fail): {missing}"
    unknown = sorted((cid, c.twin) for cid, c in REGISTRY.items() if c.twin and twin_path(c.twin) is None)
    assert not unknown, f"twins named by claims that are in no gallery module (tests/gallery/twins, impls): {unknown}"


def _twin_params():
    return [pytest.param(cid, c.twin, id=cid) for cid, c in REGISTRY.items() if c.twin]


@pytest.mark.parametrize(("claim_id", "twin"), _twin_params())
def test_claim_rejects_its_twin(claim_id, twin):
    claim = REGISTRY[claim_id]
    be = twin_backend(twin)
    ok, why = applicable(claim, be)
    assert ok, f"the twin of {claim_id} is not applicable: {why}"
    outcome = run_claim(claim, be, detect_only())
    assert not outcome.ok, (f"{claim_id} did not reject its wrong twin {twin} ({be.name}): found "
                            f"{outcome.found} over {outcome.examples} examples")
