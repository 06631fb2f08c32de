"""The contract guard: every way an implementation can misbehave becomes a precise failure."""

from __future__ import annotations

import time

import numpy as np
import pytest

from convspec.errors import ContractViolation, Hang
from convspec.model.case import Case
from convspec.model.contract import guarded_call
from convspec.model.problem import Problem

P = Problem.parse("n1c1h4w4_o1k3x3_f32")
CASE = Case.seeded(P, 0)
GOOD = np.zeros(P.y_shape, np.float32)


def call(fn, timeout=1.0):
    return guarded_call("impl", "conv2d", fn, Case(P, CASE.copy_arrays()), timeout=timeout)


def test_good_call_passes():
    out, _ = call(lambda x, w, b, **k: GOOD.copy())
    assert out.shape == P.y_shape


@pytest.mark.parametrize(("fn", "needle"), [
    (lambda x, w, b, **k: 1 / 0, "raised ZeroDivisionError"),
    (lambda x, w, b, **k: np.zeros((1, 1, 3, 3), np.float32), "returned shape (1, 1, 3, 3), expected (1, 1, 2, 2)"),
    (lambda x, w, b, **k: GOOD.astype(np.float64), "returned dtype float64, expected float32"),
    (lambda x, w, b, **k: GOOD + np.nan, "returned nan at [0, 0, 0, 0] from finite input"),
    (lambda x, w, b, **k: (x.__setitem__((0, 0, 0, 0), 7), GOOD.copy())[1], "wrote into its input x"),
    (lambda x, w, b, **k: x[:, :, :2, :2], "returned a view of its input x"),
    (lambda x, w, b, **k: GOOD.tolist(), "not a numpy.ndarray"),
])
def test_violations_are_reported_precisely(fn, needle):
    with pytest.raises(ContractViolation) as e:
        call(fn)
    assert needle in str(e.value)
    assert str(P) in str(e.value)


def test_hang_is_cut_by_the_time_limit():
    def spin(x, w, b, **k):
        while True:
            time.sleep(0.01)
    t0 = time.perf_counter()
    with pytest.raises(Hang) as e:
        call(spin, timeout=0.3)
    assert time.perf_counter() - t0 < 5
    assert "hung" in str(e.value)


# -- outer timers (in-process mode) ------------------------------------------------------------------

class _OuterAlarm(Exception):
    pass


@pytest.fixture
def outer_timer():
    """Install a recording SIGALRM handler; restore everything afterwards."""
    import signal
    fired = []

    def handler(signum, frame):
        fired.append(time.monotonic())
    old = signal.signal(signal.SIGALRM, handler)
    yield fired, handler
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


def test_outer_timer_still_fires_after_a_guarded_call(outer_timer):
    import signal
    fired, handler = outer_timer
    t0 = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    call(lambda x, w, b, **k: GOOD.copy(), timeout=5)
    assert signal.getsignal(signal.SIGALRM) is handler          # the previous handler is back
    left, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 0.5 < left <= 1.0                                     # re-armed with the time it had left
    while not fired and time.monotonic() - t0 < 3:
        time.sleep(0.01)
    assert fired and 0.9 <= fired[0] - t0 < 1.5


def test_outer_timer_fires_on_time_during_a_guarded_call(outer_timer):
    import signal
    fired, handler = outer_timer

    def slow(x, w, b, **k):
        t = time.monotonic()
        while time.monotonic() - t < 0.6:
            time.sleep(0.005)
        return GOOD.copy()
    t0 = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    call(slow, timeout=5)
    assert fired and 0.15 <= fired[0] - t0 < 0.5                # delivered inside the call, on time
    assert signal.getsignal(signal.SIGALRM) is handler and signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_outer_handler_exception_is_not_blamed_on_the_implementation():
    import signal

    def raising(signum, frame):
        raise _OuterAlarm("outer timeout")
    old = signal.signal(signal.SIGALRM, raising)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(_OuterAlarm):
            call(lambda x, w, b, **k: time.sleep(2) or GOOD.copy(), timeout=5)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_hang_restores_the_outer_timer(outer_timer):
    import signal
    fired, handler = outer_timer
    signal.setitimer(signal.ITIMER_REAL, 2.0)

    def spin(x, w, b, **k):
        while True:
            time.sleep(0.01)
    with pytest.raises(Hang):
        call(spin, timeout=0.2)
    assert signal.getsignal(signal.SIGALRM) is handler
    assert 1.0 < signal.getitimer(signal.ITIMER_REAL)[0] < 2.0


def test_self_timed_callables_get_no_alarm_and_their_violations_pass_through():
    import signal
    seen = []

    def proxy(x, w, b, **k):
        seen.append((signal.getitimer(signal.ITIMER_REAL)[0], signal.getsignal(signal.SIGALRM)))
        raise ContractViolation("impl.conv2d crashed: killed by SIGSEGV")
    proxy.enforces_timeout = True
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(ContractViolation) as e:
        call(proxy, timeout=0.3)
    assert seen == [(0.0, before)]
    assert str(e.value) == f"impl.conv2d crashed: killed by SIGSEGV (on {P})"
    assert "raised ContractViolation" not in str(e.value)

    def proxy2(x, w, b, **k):
        raise ContractViolation("the worker broke the protocol")
    proxy2.enforces_timeout = True
    with pytest.raises(ContractViolation, match=r"^impl\.conv2d: the worker broke the protocol \(on n1c1"):
        call(proxy2)


# -- call forms ---------------------------------------------------------------------------------------

def test_the_call_form_is_applied_and_the_case_arrays_are_never_passed():
    from dataclasses import replace

    from convspec.model.forms import CallForm
    case = replace(Case(P, CASE.copy_arrays()), form=CallForm(stride="int", layouts=(("x", "F"), ("w", "neg")),
                                                              readonly=True))
    got = {}

    def spy(x, w, b, **k):
        got.update(x=x, w=w, k=k)
        return GOOD.copy()
    guarded_call("impl", "conv2d", spy, case)
    assert got["x"] is not case.x and np.array_equal(got["x"], case.x) and got["x"].flags.f_contiguous
    assert got["w"].strides[0] < 0 and not got["x"].flags.writeable
    assert got["k"]["stride"] == 1 and got["k"]["padding"] == (0, 0)

    with pytest.raises(ContractViolation, match=r"\[form s=int,w=neg,x=F,ro\]"):
        guarded_call("impl", "conv2d", lambda x, w, b, **k: 1 / 0, case)


def test_special_inputs_may_give_special_outputs():
    c = Case(P, CASE.copy_arrays())
    c.x[0, 0, 0, 0] = np.nan
    out, _ = guarded_call("impl", "conv2d", lambda x, w, b, **k: GOOD + np.nan, c)
    assert np.isnan(out).all()


# -- results stay valid -------------------------------------------------------------------------------

def test_a_reused_output_buffer_is_named():
    from convspec.model.contract import ResultLog, logging_results
    buf = GOOD.copy()
    with logging_results(ResultLog()), pytest.raises(ContractViolation, match="reuses its output buffer") as e:
        call(lambda x, w, b, **k: buf)
        call(lambda x, w, b, **k: buf)
    assert "call #1" in str(e.value) and "call #2" in str(e.value)


def test_a_result_changed_after_it_was_returned_is_named():
    """Wrong twin of the digest check: a fresh array each time, but the previous one is written later
    (like an asynchronous copy that completes after returning)."""
    from convspec.model.contract import ResultLog, logging_results
    last = []

    def lazy(x, w, b, **k):
        if last:
            last[-1][...] = 5.0
        last.append(GOOD.copy())
        return last[-1]
    log = ResultLog()
    with logging_results(log), pytest.raises(ContractViolation, match="changed after it was returned") as e:
        call(lazy)
        call(lazy)
    assert "call #1" in str(e.value) and "0.0 vs 5.0" in str(e.value)
    log2 = ResultLog()
    with logging_results(log2):
        y = call(lazy)[0]
    y[0, 0, 0, 0] = 1.0                  # a write after the call: found by the end-of-example check
    with pytest.raises(ContractViolation, match="at the end of the example"):
        log2.verify()


def test_declared_determinism_is_checked_bitwise():
    from convspec.errors import Nondeterministic
    from convspec.model.contract import ResultLog, logging_results
    rng = np.random.default_rng(0)
    with logging_results(ResultLog(rerun={"impl"})), pytest.raises(Nondeterministic) as e:
        call(lambda x, w, b, **k: GOOD + rng.random(GOOD.shape).astype(np.float32))
    assert "nondeterministic" in str(e.value) and set(e.value.sides) == {"first result", "second result"}
    with logging_results(ResultLog(rerun={"other"})):
        call(lambda x, w, b, **k: GOOD + rng.random(GOOD.shape).astype(np.float32))   # not rerun: passes
    with logging_results(ResultLog(rerun={"impl"})) as log:
        call(lambda x, w, b, **k: GOOD.copy())
    assert len(log.entries) == 2


def _contract_blocks():
    """The two literal blocks of the contract's docstring (the ops, the capabilities), dedented."""
    import textwrap

    from convspec.model import contract
    doc = contract.__doc__
    blocks = []
    for head in ("Ops (", "Capabilities an implementation declares"):
        start = doc.index("::\n\n", doc.index(head)) + 4
        end = doc.index("\n\n", start)
        blocks.append(textwrap.dedent(doc[start:end]))
    return blocks


def test_docs_state_the_contract_word_for_word():
    """docs/contract.md states the contract's two blocks verbatim; every op of the op table and every
    Capabilities field is in them (so neither the docs nor the code can drift)."""
    import dataclasses
    import os

    from convspec.backends.base import Capabilities
    from convspec.model.contract import CONTRACT
    ops, caps = _contract_blocks()
    page = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "contract.md")).read()
    assert ops in page, "docs/contract.md lacks the contract's op block (convspec/model/contract.py docstring) verbatim"
    assert caps in page, "docs/contract.md lacks the contract's capability block (convspec/model/contract.py docstring)"
    for op in CONTRACT:
        assert op in ops, op
    # kind_dtypes, declared: internal (the dtypes per kind, the keys a module gave)
    names = {f.name for f in dataclasses.fields(Capabilities)} - {"kind_dtypes", "declared"}
    alias = {"max_stride": "stride", "max_dilation": "dilation"}
    for n in names:
        assert alias.get(n, n) in caps, n
