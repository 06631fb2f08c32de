"""IEEE special values (NaN, +Inf, -Inf) injected into conv cases: the strategy of the special-value claims.

The rule those values must follow, and its exact reference, are :mod:`convspec.truth.special`; the check is
:func:`convspec.truth.oracle.check_special`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec.drawing.strategies import conv_cases
from convspec.model.case import Case

SPECIALS = (np.nan, np.inf, -np.inf)


# -- the strategy -------------------------------------------------------------------------------------

@st.composite
def inject(draw, case, max_specials: int = 3, max_zeros: int = 2):
    """``case`` with 1..max_specials elements of x, w or b set to NaN, +Inf or -Inf, and up to
    ``max_zeros`` weights set to 0 (so that 0 * NaN and 0 * Inf occur); shrinks towards one NaN in x[0].
    The result carries its arrays (no seed), so the repro command replays the special values."""
    arrays = case.copy_arrays()
    names = [k for k in ("x", "w", "b") if arrays.get(k) is not None and arrays[k].size]
    for _ in range(draw(st.integers(1, max_specials))):
        a = arrays[draw(st.sampled_from(names))]
        a.flat[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from(SPECIALS))
    w = arrays["w"]
    for _ in range(draw(st.integers(0, max_zeros))):
        k = draw(st.integers(0, w.size - 1))
        if np.isfinite(w.flat[k]):
            w.flat[k] = 0
    return Case(case.problem, arrays)


def special_cases(caps, **opts):
    """Conv cases (up to the 'medium' size class, data from a seed) with special values injected
    (:func:`inject`); the injected positions and values shrink, the finite values do not."""
    opts.setdefault("max_class", 2)
    opts.setdefault("value_level", False)
    return conv_cases(caps, **opts).flatmap(inject)
