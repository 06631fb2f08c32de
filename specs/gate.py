"""The gate test: one test per (claim, backend), ``test_claim[<claim id>-<backend>]``.

The pytest plugin (:mod:`specs.plugin`) collects this module under the node id ``convspec`` whenever
an implementation is given (``--impl``, ``--impl-cmd``, ``CONVSPEC_IMPL``, ``convspec gate``), from
any directory; the checkout's tests/test_claims.py imports the same function to run the claims on the
built-in backends.  Each test runs its claim through the one engine (:func:`specs.engine.run_claim`),
records the outcome (:func:`specs.results.outcome_dict`, as JSON) and fails with the shared failure
message -- descriptor, arrays, worst element, repro command -- when the verdict found is not the one
expected.
"""

from __future__ import annotations

import json

import pytest


def test_claim(claim, backend, request):
    from convspec.engine import run_claim
    from convspec.plugin import gate_of
    from convspec.report import failure_message
    from convspec.results import outcome_dict

    gate = gate_of(request.config)
    impl_arg = request.config.getoption("impl") if backend.origin != "builtin" else None
    outcome = run_claim(claim, backend, gate.settings(), seed=gate.seed(), impl_arg=impl_arg)
    request.node.user_properties.append(("convspec", json.dumps(outcome_dict(outcome), allow_nan=False)))
    if not outcome.ok:
        pytest.fail(failure_message(outcome), pytrace=False)
