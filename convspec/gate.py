"""The gate tests: one test per (claim, backend), ``test_claim[<claim id>-<backend>]``.

The pytest plugin (:mod:`convspec.plugin`) collects this module under the node id ``convspec`` whenever
an implementation is given (``--impl``, ``--impl-cmd``, ``CONVSPEC_IMPL``, ``convspec gate``), from
any directory; the checkout's tests/integration/test_claims.py imports the same function to run the claims on the
built-in backends.

* A claim expected to hold becomes a real Hypothesis test (:class:`ClaimTest`, whose ``obj`` is
  :func:`convspec.search.engine.build_test`'s ``@given`` test); :func:`run_item` runs and judges it.
* A refuted or conditional claim runs its searches through the one engine (:func:`test_claim`,
  :func:`convspec.search.engine.run_claim`).

Both record the outcome (:func:`convspec.reporting.results.outcome_dict`, as JSON) and fail with the shared failure
message -- descriptor, arrays, worst element, repro command -- when the verdict found is not the one
expected.  The settings of a run live in the plugin's per-``Config`` object, found with :func:`gate_of`.

The plugin imports this module in every pytest run, so it imports the search engine only when a gate test runs.
"""

from __future__ import annotations

import json

import pytest

PLUGIN_NAME = "convspec-gate"      # the name the plugin registers its per-Config object under


def gate_of(config):
    """The plugin's per-``Config`` object (:class:`convspec.plugin.Gate`: settings, seed, database)."""
    return config.pluginmanager.get_plugin(PLUGIN_NAME)


class ClaimTest(pytest.Function):
    """A claim test whose claim is expected to hold: ``obj`` is the ``@given`` test of the claim on the
    backend (:func:`convspec.search.engine.build_test`); ``callspec.params`` holds ``claim`` and ``backend`` as for
    the plain gate test.  Running it runs that Hypothesis test and judges it (:func:`run_item`)."""

    def runtest(self):
        run_item(self)


def claim_and_backend(item):
    """(claim, backend) of a claim test (plain or :class:`ClaimTest`), or (None, None)."""
    if not (isinstance(item, ClaimTest) or getattr(item, "function", None) is test_claim):
        return None, None
    params = getattr(getattr(item, "callspec", None), "params", {})
    return params.get("claim"), params.get("backend")


def _impl_arg(config, backend):
    return config.getoption("impl") if backend.origin != "builtin" else None


def _finish(node, outcome, notes=()) -> None:
    from convspec.reporting.report import failure_message  # lazy: see the module doc (numpy)
    from convspec.reporting.results import outcome_dict
    node.user_properties.append(("convspec", json.dumps(outcome_dict(outcome), allow_nan=False)))
    if not outcome.ok:
        msg = failure_message(outcome)
        if notes:
            msg += "\n\nHypothesis:\n" + "\n".join("  " + n for n in notes)
        pytest.fail(msg, pytrace=False)


def test_claim(claim, backend, request):
    from convspec.search.engine import run_claim  # lazy: see the module doc (numpy, hypothesis, every claim)

    gate = gate_of(request.config)
    outcome = run_claim(claim, backend, gate.settings(), seed=gate.seed(), impl_arg=_impl_arg(request.config, backend))
    _finish(request.node, outcome)


def run_item(item) -> None:
    """Run a :class:`ClaimTest` (its ``obj`` is the ``@given`` test) and judge it."""
    from convspec.search.engine import judge, run_built  # lazy: see the module doc (numpy, hypothesis, every claim)

    claim, backend = claim_and_backend(item)
    s = run_built(item.obj, "all")
    outcome = judge(claim, backend, [s], item.obj.convspec.recorder, _impl_arg(item.config, backend))
    notes = list(getattr(s.failure, "__notes__", ()) or ()) if gate_of(item.config).explain() else []
    _finish(item, outcome, notes)
