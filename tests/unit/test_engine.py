"""The engine: built tests are real hypothesis tests with stable database keys; results that change,
reruns that differ and failures that do not repeat are named; call forms reach repro commands."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from hypothesis import settings
from hypothesis.database import InMemoryExampleDatabase

from convspec.claims import REGISTRY, load_builtin
from convspec.errors import Nondeterministic
from convspec.model.forms import CallForm
from convspec.search.engine import build_test, database_key, run_claim, run_once
from tests.conftest import gallery_path

load_builtin()
DEF = "conv2d-matches-definition"


def _load(name):
    from convspec.backends.base import load_impl
    return load_impl(gallery_path(name))


def test_build_test_is_a_hypothesis_test_with_a_stable_key():
    from convspec.backends.registry import get
    c = REGISTRY[DEF]
    a = build_test(c, get("numpy"), "all", settings.default)
    b = build_test(c, get("numpy"), "all", settings.default)
    other = build_test(c, get("torch"), "all", settings.default)
    assert a.is_hypothesis_test and callable(a.hypothesis.inner_test)
    assert a._hypothesis_internal_database_key == b._hypothesis_internal_database_key == database_key(c, get("numpy"),
                                                                                                         "all")
    assert other._hypothesis_internal_database_key != a._hypothesis_internal_database_key
    a()                                   # runs the search; numpy holds
    assert a.convspec.count >= settings.default.max_examples


def test_the_database_replays_a_failure_first(monkeypatch):
    from convspec.search import engine
    monkeypatch.setattr(engine, "ROWS_ENABLED", False)    # a failure on a pinned row is never saved (explicit example)
    db = InMemoryExampleDatabase()
    be = _load("flipped_kernel")
    c = replace(REGISTRY[DEF], examples=())       # no pinned examples: the failure comes from the search
    base = settings(settings.default, database=db, derandomize=False)
    first = build_test(c, be, "all", base)
    try:
        first()
    except AssertionError:
        pass
    assert db.data, "the failure was not saved"
    again = build_test(c, be, "all", base)
    try:
        again()
    except AssertionError:
        pass
    assert again.convspec.count < first.convspec.count


def test_a_reused_output_buffer_is_broken_and_named():
    o = run_claim(REGISTRY[DEF], _load("reuses_output_buffer"), settings.default)
    assert o.found == "broken" and "reuses its output buffer" in o.message, o.message


def test_a_wrong_result_every_nth_call_is_named_nondeterministic_quickly():
    be = _load("nondeterministic_every_nth_call")
    t0 = time.perf_counter()
    o = run_claim(REGISTRY[DEF], replace(be, caps=replace(be.caps, deterministic=False)), settings.default)
    assert time.perf_counter() - t0 < 30
    assert o.found == "broken" and isinstance(o.failure, Nondeterministic), o.message
    assert o.message.startswith("nondeterministic: the property failed, then held"), o.message
    assert len(o.sides) == 2 and all(k.startswith(("first run", "second run")) for k in o.sides)


def test_declared_determinism_is_enforced_and_can_be_waived(monkeypatch):
    from convspec.search import engine
    # the random search alone: the rows' index-limit tier runs this channel-by-channel Python loop over 65536
    # channels (33 s); determinism is checked the same way on a row
    monkeypatch.setattr(engine, "ROWS_ENABLED", False)
    from convspec.model.case import Case
    from convspec.model.problem import Problem
    be = _load("nondeterministic_summation_order")
    case = Case.seeded(Problem.parse("n2c8h9w9_o3k3x3_f64_flt"), 5)
    status, msg = run_once(REGISTRY[DEF], be, case)
    assert status == "broken" and "declares deterministic results" in msg and "differ" in msg, msg
    waived = replace(be, caps=replace(be.caps, deterministic=False))
    assert run_once(REGISTRY[DEF], waived, case)[0] == "holds"
    o = run_claim(REGISTRY[DEF], be, settings(settings.default, max_examples=40, derandomize=True, database=None))
    assert o.found == "broken" and "declares deterministic results" in o.message, o.message
    o = run_claim(REGISTRY[DEF], waived, settings(settings.default, max_examples=40, derandomize=True, database=None))
    assert o.ok, o.message


def test_run_once_and_the_repro_command_carry_the_form():
    from convspec.model.case import Case
    from convspec.model.problem import Problem
    from convspec.search.engine import repro_command
    be = _load("reads_memory_order")
    case = Case.seeded(Problem.parse("n1c2h3w4_o1k1x1"), 0)
    assert run_once(REGISTRY[DEF], be, case)[0] == "holds"
    formed = replace(case, form=CallForm(layouts=(("x", "F"),)))
    status, msg = run_once(REGISTRY[DEF], be, formed)
    assert status == "mismatch", msg
    cmd = repro_command(REGISTRY[DEF], be, formed, impl_arg="my.py")
    assert "--form x=F" in cmd
    assert "--form" not in repro_command(REGISTRY[DEF], be, replace(case, form=CallForm()), impl_arg="my.py")


def test_failures_name_their_call_form():
    import convspec.specs.contract.forms  # noqa: F401  (registers the form claims)
    o = run_claim(REGISTRY["conv2d-accepts-every-call-form"], _load("reads_memory_order"), settings.default)
    assert o.found == "refuted" and not o.case.form.plain
    assert o.case.form.layout("x") != "C" and o.case.form.layout("w") == "C"     # shrunk to the layout of x
    assert f"call form {o.case.form}" in o.message and f"--form {o.case.form}" in o.repro
    o = run_claim(REGISTRY["conv2d-accepts-every-call-form"], _load("int_stride_misread"), settings.default)
    assert o.found == "broken" and str(o.case.form) == "s=int" and "[form s=int]" in o.message


def test_forms_are_drawn_for_every_example():
    from convspec.backends.base import Backend, Capabilities
    seen = []

    def spy(x, w, b=None, **kw):
        seen.append((x.flags.c_contiguous, type(kw["stride"]).__name__))
        from convspec.backends.registry import get
        return get("numpy").op("conv2d")(x, w, b, **kw)
    be = Backend("spy", {"conv2d": spy}, Capabilities())
    o = run_claim(REGISTRY[DEF], be, settings(settings.default, max_examples=30))
    assert o.ok, o.message
    assert {c for c, _ in seen} == {True, False} and len({t for _, t in seen}) > 1
    assert np.mean([c for c, _ in seen]) > 0.3


def test_a_refutation_that_does_not_replay_is_named_nondeterministic():
    """Searches for expected counterexamples do not re-run failures; hypothesis's own replay notices a
    failure that does not repeat, and the engine names it instead of reporting an error."""
    from convspec.claims import REFUTED
    from convspec.errors import Mismatch
    from convspec.search.engine import search
    calls = []

    def once(be, case):
        calls.append(1)
        if len(calls) == 1:
            raise Mismatch("fails the first time only")
    claim = replace(REGISTRY[DEF], id="selftest-flaky-refutation", expected=REFUTED, check=once, examples=())
    from convspec.backends.registry import get
    s = search(claim, get("numpy"), "all", settings(settings.default, database=None))
    assert isinstance(s.failure, Nondeterministic) and s.kind == "broken", repr(s.failure)
    assert "did not repeat" in str(s.failure)
