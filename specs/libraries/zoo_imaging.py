"""Issue 20, the imaging libraries' part: behaviours of the signal ops that no other claim tests, found while
auditing OpenCV, Pillow, pyvips, astropy, dask-image/scikit-image and kornia (:mod:`convspec.backends.zoo`).

* ``signal-ops-propagate-nan`` -- the direct sum's IEEE reading of a NaN in ``a``: each output of
  convolve2d is sum_{u, v} k[u, v] a[i - u, j - v] over the taps that reach ``a``, and NaN times any weight
  (zero included) is NaN, so an output is NaN exactly when its window covers a NaN of ``a``; the rest are the
  definition's values on the other elements.  An "interpolating" library (astropy's default
  nan_treatment) or one that replaces NaN by zero departs.  FFT/DFT paths spread a NaN over the whole
  result (claim ``fft-spreads-nan-direct-does-not``), so the claim requires accuracy 'direct'.
  Kernels are drawn with odd extents, so that libraries centred on a middle tap (astropy) are tested too;
  data are small integers, so the finite outputs are exact and compared bit for bit.  The kernels are
  non-negative with a positive sum (zero taps allowed), the smoothing kernels NaN handling is written for
  (astropy refuses NaN data with a zero-sum kernel in its default mode: another behaviour, not this one).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec.claims import HOLDS, claim
from convspec.drawing.strategies import signal_cases
from convspec.model.case import Case
from convspec.model.problem import SignalProblem
from convspec.truth import reference as ref
from convspec.truth.check import equal, holds

IEEE = "IEEE 754-2019 section 7.2 (invalid operation: NaN operands propagate, 0 x NaN is NaN)"


def nan_mask(a, k, mode: str, skip_zero_taps: bool = False):
    """Where convolve2d(a, k, mode) must be NaN: the outputs whose window covers a NaN of ``a``; with
    ``skip_zero_taps`` (capability ``zero_taps: "skip"``) only through the non-zero taps of ``k``."""
    taps = (np.asarray(k) != 0) if skip_zero_taps else np.ones(np.shape(k))
    hits = ref.convolve(np.isnan(a).astype(np.float64), taps.astype(np.float64), mode)
    return hits > 0


#: a small case where a zero tap alone reaches the NaN: output [0, 1] of the full convolution is 2 + 0 x NaN
#: (``a`` as large as ``k``, so that every library's shape rule takes it)
ZERO_TAP = Case(SignalProblem.parse("a1x3_k1x3_full_f64_int"),
                {"a": np.array([[np.nan, 2.0, 4.0]]), "k": np.array([[1.0, 0.0, 1.0]])})
#: the zero tap at the kernel's end instead (output [0, 2] is 4 + 2 + 0 x NaN): where a filter that multiplies
#: its first tap unconditionally (scikit-image's correlate_sparse on the rotated kernel) parts from the sparse
#: reading as well
ZERO_END_TAP = Case(SignalProblem.parse("a1x3_k1x3_full_f64_int"),
                    {"a": np.array([[np.nan, 2.0, 4.0]]), "k": np.array([[1.0, 1.0, 0.0]])})


def nan_cases(be):
    """Signal cases (f64/f32, small integers, odd non-negative kernels with a positive sum) with one element of ``a`` set to NaN."""
    @st.composite
    def draw(d):
        case = d(signal_cases(be.caps, kernel_parity="odd", dtypes=("f64", "f32"), regimes=("int",)))
        a = np.array(case.a, copy=True)
        i, j = d(st.integers(0, a.shape[0] - 1)), d(st.integers(0, a.shape[1] - 1))
        a[i, j] = np.nan
        k = np.abs(case.k)                  # a non-negative kernel with a positive sum (zero taps allowed):
        if not k.any():                     # the smoothing kernels NaN handling is written for
            k.flat[d(st.integers(0, k.size - 1))] = 1
        return Case(case.problem, {"a": a, "k": k})
    return draw()


@claim(id="signal-ops-propagate-nan", twin="nan_as_zero",
       group="seed", source=IEEE, needs={"convolve2d"}, requires={"direct", "dtype:f64"},
       expected=HOLDS,
       statement="convolve2d with a NaN in a returns NaN exactly at the outputs whose window covers it (NaN times "
                 "any tap, zero included) and the definition's values elsewhere (refuted by NaN interpolation or "
                 "NaN-as-zero)",
       cases=nan_cases, examples=(ZERO_TAP, ZERO_END_TAP))
def _(be, case):
    a, k, mode = case.a, case.k, case.problem.mode
    with np.errstate(invalid="ignore"):
        y = np.asarray(be.call("convolve2d", case))
    want = nan_mask(a, k, mode, be.caps.zero_taps == "skip")
    sides = {"a": a, "k": k, "convolve2d": y, "expected NaN": want.astype(np.int8)}
    got = np.isnan(y)
    holds(np.array_equal(got, want), f"{be.name}.convolve2d(a with NaN, k, {mode!r}): NaN at "
          f"{np.argwhere(got).tolist()}, expected at {np.argwhere(want).tolist()}", sides=sides)
    exact = ref.convolve(np.nan_to_num(a.astype(np.float64), nan=0.0), k.astype(np.float64), mode)
    equal(np.where(want, 0, y).astype(np.float64), np.where(want, 0, exact), f"{be.name}.convolve2d outside the "
          "NaN windows vs the definition", sides=sides)
