"""The three reference implementations agree with each other, and the signal references agree
with scipy.signal (the semantics the contract adopts)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from scipy import signal

from convspec.backends.base import Capabilities
from convspec.drawing.strategies import conv_cases, signal_cases
from convspec.truth import reference as ref
from convspec.truth.oracle import signal_allowed
from convspec.truth.tolerance import ACCUMULATIONS, compare, fft_bound

CAPS = Capabilities(dtypes=("f64",))


@settings(max_examples=60)
@given(conv_cases(CAPS, regimes=("int",)))
def test_direct_im2col_exact_agree_on_integers(case):
    p = case.problem
    d = ref.direct(case.x, case.w, case.b, **p.kwargs())
    exact = ref.direct(case.x, case.w, case.b, exact=True, **p.kwargs())
    assert np.array_equal(d, exact.astype(np.float64))
    assert np.array_equal(ref.im2col(case.x, case.w, case.b, **p.kwargs()), d)


@settings(max_examples=60)
@given(conv_cases(CAPS))
def test_fft_within_normwise_bound_of_direct(case):
    p = case.problem
    d = ref.direct(case.x, case.w, case.b, **p.kwargs())
    f = ref.fft(case.x, case.w, case.b, **p.kwargs())
    assert np.all(np.abs(f - d) <= fft_bound(case.x, case.w, p, ACCUMULATIONS["f64"]) + 1e-300)


@settings(max_examples=60)
@given(signal_cases(CAPS))
def test_signal_references_match_scipy(case):
    """Bit-exact on integers; within the error model (float64) on floats."""
    for mode in ("full", "same") + (("valid",) if case.problem.mode == "valid" else ()):
        for op, mine, theirs in (("convolve2d", ref.convolve, signal.convolve2d),
                                 ("correlate2d", ref.correlate, signal.correlate2d)):
            exp, allowed = signal_allowed(ACCUMULATIONS["f64"], case.a, case.k, mode, op)
            assert np.array_equal(exp, mine(case.a, case.k, mode))
            got = theirs(case.a, case.k, mode)
            if case.problem.regime == "int":
                assert np.array_equal(got, exp), (op, mode)
            else:
                assert compare(got, exp, allowed).ok, (op, mode)


def test_wrong_reference_is_caught():
    """The cross-check can fail: a direct sum without the padding disagrees with im2col."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 3, 3))
    good = ref.im2col(x, w, padding=1)
    bad = np.pad(ref.direct(x, w), ((0, 0), (0, 0), (1, 1), (1, 1)))
    assert not np.array_equal(good, bad)
