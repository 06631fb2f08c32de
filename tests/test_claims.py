"""One test per (claim, backend): the gate.  Each runs the claim through the one engine and asserts
that the verdict found is the verdict expected.  Ids: test_claim[<claim id>-<backend>]."""

from __future__ import annotations

from hypothesis import settings

from specs.engine import run_claim
from specs.report import failure_message, success_note


def assert_outcome(outcome):
    """Fail with the shared failure message (descriptor, arrays, worst element, repro)."""
    __tracebackhide__ = True
    if not outcome.ok:
        raise AssertionError(failure_message(outcome))


def test_claim(claim, backend, request):
    impl_arg = request.config.getoption("impl") if backend.origin != "builtin" else None
    outcome = run_claim(claim, backend, settings.default, impl_arg=impl_arg)
    request.node.user_properties.append(("convspec", {
        "claim": claim.id, "backend": backend.name, "expected": claim.describe_expected(), "found": outcome.found,
        "ok": outcome.ok, "message": outcome.message[:2000],
        "counterexample": str(outcome.case.problem) if outcome.case is not None else None,
        "repro": outcome.repro, "worst_ratio": outcome.worst_ratio, "examples": outcome.examples,
        "seconds": round(outcome.seconds, 3)}))
    request.node.user_properties.append(("convspec_note", success_note(outcome)))
    assert_outcome(outcome)
