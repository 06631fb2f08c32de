"""Departures of scipy found by convspec itself (not from the seed thread): each claim states what the library
does, with the smallest counterexample, a library-only repro in ``docs/repros/`` and the closest upstream report.

scipy.signal.correlate2d in 'valid' mode, complex data, the second input the larger.  The contract (scipy's own
documented definition, and scipy.signal.correlate) is z = sum over the overlap of a[i + u] * conj(k[u]).  When
``k`` is at least as large as ``a`` on every axis, 'valid' mode swaps the inputs internally (scipy PR #5608: the
order of the inputs no longer matters for 'valid'), and for complex data the swapped branch returns the
*conjugate* of the definition: ``correlate2d([[1]], [[1j, 0]], 'valid')`` gives ``[[0, 1j]]`` where
``correlate`` and the 'full' result give ``[[0, -1j]]``.  Measured on scipy 1.17.1; closest upstream reports:
scipy/scipy#12685 (swapped inputs with non-default boundaries, open) and scipy/scipy#5954 (conjugation
conventions of correlate, closed) -- neither covers this.  Repro: docs/repros/scipy_correlate2d_valid_swap_conj.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec.claims import REFUTED, claim
from convspec.model.case import Case
from convspec.model.problem import SignalProblem
from convspec.truth import reference as ref
from convspec.truth.check import equal

SWAP_SRC = ("found by convspec (scipy 1.17.1); closest upstream: scipy/scipy#12685, scipy/scipy#5954; repro: "
            "docs/repros/scipy_correlate2d_valid_swap_conj.py")


@st.composite
def kernel_larger_complex_cases(draw):
    """Complex small-integer a and k with k at least as large as a on every axis (where 'valid' swaps)."""
    ah, aw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(ah, 4)), draw(st.integers(aw, 4))
    ints = st.integers(-3, 3)

    def arr(h, w):
        re = draw(st.lists(ints, min_size=h * w, max_size=h * w))
        im = draw(st.lists(ints, min_size=h * w, max_size=h * w))
        return (np.array(re, float) + 1j * np.array(im, float)).reshape(h, w)
    p = SignalProblem(a=(ah, aw), k=(kh, kw), mode="valid", dtype="c128", regime="int")
    return Case(p, {"a": arr(ah, aw), "k": arr(kh, kw)})


@claim(id="scipy-correlate2d-valid-kernel-larger-conjugates", twin="correlate2d_fixed", group="scipy", source=SWAP_SRC,
       needs={"correlate2d", "scipy.signal.correlate"}, expected=REFUTED,
       version_note="measured on scipy 1.17.1",
       statement="signal.correlate2d(a, k, 'valid') of complex data equals the definition (signal.correlate(a, k, "
                 "'valid'), sum of a * conj(k) over the overlap) also when k is the larger input (refuted: the "
                 "swapped-input branch returns the conjugate, [[1]] with [[1j, 0]] gives [[0, 1j]], not [[0, -1j]])",
       cases=kernel_larger_complex_cases())
def _(be, case):
    a, k = case.a, case.k
    got = np.asarray(be.call("correlate2d", case))
    want = np.asarray(be.op("scipy.signal.correlate")(a, k, mode="valid"))
    equal(got, want, f"{be.name}.correlate2d(a, k, 'valid') vs signal.correlate(a, k, 'valid')",
          sides={"a": a, "k": k, "correlate2d": got, "correlate": want, "definition": ref.correlate(a, k, "valid")})
