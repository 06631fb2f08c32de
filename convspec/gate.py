"""The gate test: one test per (claim, backend), ``test_claim[<claim id>-<backend>]``.

The pytest plugin (:mod:`convspec.plugin`) collects this module under the node id ``convspec`` whenever
an implementation is given (``--impl``, ``--impl-cmd``, ``CONVSPEC_IMPL``, ``convspec gate``), from
any directory; the checkout's tests/integration/test_claims.py imports the same function to run the claims on the
built-in backends.

* A claim expected to hold becomes a real Hypothesis test (:class:`convspec.plugin.ClaimTest`, whose
  ``obj`` is :func:`convspec.search.engine.build_test`'s ``@given`` test); :func:`run_item` runs and judges it.
* A refuted or conditional claim runs its searches through the one engine (:func:`test_claim`,
  :func:`convspec.search.engine.run_claim`).

Both record the outcome (:func:`convspec.reporting.results.outcome_dict`, as JSON) and fail with the shared failure
message -- descriptor, arrays, worst element, repro command -- when the verdict found is not the one
expected.
"""

from __future__ import annotations

import json

import pytest


def _impl_arg(config, backend):
    return config.getoption("impl") if backend.origin != "builtin" else None


def _finish(node, outcome, notes=()) -> None:
    from convspec.reporting.report import failure_message
    from convspec.reporting.results import outcome_dict
    node.user_properties.append(("convspec", json.dumps(outcome_dict(outcome), allow_nan=False)))
    if not outcome.ok:
        msg = failure_message(outcome)
        if notes:
            msg += "\n\nHypothesis:\n" + "\n".join("  " + n for n in notes)
        pytest.fail(msg, pytrace=False)


def test_claim(claim, backend, request):
    from convspec.plugin import gate_of
    from convspec.search.engine import run_claim

    gate = gate_of(request.config)
    outcome = run_claim(claim, backend, gate.settings(), seed=gate.seed(), impl_arg=_impl_arg(request.config, backend))
    _finish(request.node, outcome)


def run_item(item) -> None:
    """Run a :class:`convspec.plugin.ClaimTest` (its ``obj`` is the ``@given`` test) and judge it."""
    from convspec.plugin import claim_and_backend, gate_of
    from convspec.search.engine import judge, run_built

    claim, backend = claim_and_backend(item)
    s = run_built(item.obj, "all")
    outcome = judge(claim, backend, [s], item.obj.convspec.recorder, _impl_arg(item.config, backend))
    notes = list(getattr(s.failure, "__notes__", ()) or ()) if gate_of(item.config).explain() else []
    _finish(item, outcome, notes)
