"""Claims about IEEE special values (NaN, +-Inf) in conv2d: the rule is in :mod:`convspec.truth.special`."""

from __future__ import annotations

import numpy as np

from convspec.claims import HOLDS, claim
from convspec.drawing.special import special_cases
from convspec.model.case import Case
from convspec.model.problem import Problem
from convspec.truth.oracle import check_special

IEEE = "IEEE 754-2019 §7.2 (0·Inf, Inf−Inf and NaN operands are invalid: NaN); convspec contract (issue 9)"
nan, inf = np.nan, np.inf


def _pinned(desc, x, w, b=None):
    out = []
    for dt, npdt in (("f64", np.float64), ("f32", np.float32)):
        p = Problem.parse(desc).with_(dtype=dt)
        arrays = {"x": np.array(x, npdt).reshape(p.x_shape), "w": np.array(w, npdt).reshape(p.w_shape)}
        if b is not None:
            arrays["b"] = np.array(b, npdt)
        out.append(Case(p, arrays))
    return out


SPECIAL_EDGE = (
    _pinned("n1c1h1w1_o1k1x1", [nan], [0.0])                                    # NaN times a zero weight
    + _pinned("n1c1h1w1_o1k1x1", [inf], [0.0])                                  # Inf times zero
    + _pinned("n1c1h1w2_o1k1x2", [inf, -inf], [1.0, 1.0])                       # +Inf and -Inf terms
    + _pinned("n1c2h2w2_o1k1x1", [1.0, 2.0, 3.0, 4.0, -inf, 0.0, 1.0, 2.0], [2.0, 0.0])  # -Inf times a zero weight
    + _pinned("n1c1h1w3_o1k1x2_s1x1_p0x0_d1x2", [1.0, nan, 1.0], [1.0, 1.0])   # NaN in a dilation hole: no term
    + _pinned("n1c1h1w3_o1k1x1_s1x2", [1.0, nan, 1.0], [1.0])                  # NaN stepped over by the stride
    + _pinned("n1c1h1w1_o1k3x3_s1x1_p1x1", [2.0], [inf, 0, 0, 0, 1.0, 0, 0, 0, 0])  # padded zero times Inf
    + _pinned("n1c1h1w1_o2k1x1_bias", [1.0], [1.0, 1.0], [nan, -inf])          # special biases
)


@claim(id="conv2d-propagates-special-values", twin="sparse_skips_zero_weights",
       group="seed", source=IEEE, needs={"conv2d"}, expected=HOLDS,
       statement="conv2d propagates NaN and Inf as the direct sum does in IEEE arithmetic: an output is NaN when "
                 "a term is NaN (NaN times any weight, zero included) or Inf times 0, or the terms hold +Inf and "
                 "-Inf, else +-Inf when a term is +-Inf; 'fast' implementations may spread NaN within an affected "
                 "plane; finite outputs stay within the error model",
       cases=lambda be: special_cases(be.caps), examples=SPECIAL_EDGE)
def _(be, case):
    with np.errstate(invalid="ignore", over="ignore"):     # 0*Inf, Inf-Inf: the values under test, not a fault
        y = be.call("conv2d", case)
    check_special(be, case, y)
