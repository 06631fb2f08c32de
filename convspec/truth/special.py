"""IEEE special values (NaN, +Inf, -Inf) through conv2d: the exact pattern of special outputs.

**The rule** (IEEE 754 arithmetic applied to the definition's sum).  An output element
``y[n,o,i,j] = b[o] + sum_t x_t * w_t`` has the *terms* ``x_t * w_t`` over the taps t = (c, u, v) of its
receptive field, plus the bias.  A term is NaN when either factor is NaN -- a NaN input times **any**
weight, 0 included, and any input times a NaN weight -- or when it is ``(+-Inf) * 0``; otherwise it is
+-Inf when a factor is infinite (the sign is the product of the signs).  Then the output is

* NaN   when a term is NaN, or when the terms hold both +Inf and -Inf;
* +-Inf when a term is +-Inf (and no NaN term and not both signs);
* finite otherwise, equal to the sum of its (finite) terms within the error model.

**Padding.**  Zero padding makes the padded positions of the receptive field zeros: in the direct
sum they are terms ``0 * w_t``, which are NaN when ``w_t`` is +-Inf or NaN.  Implementations that
compute those products (numpy, scipy and torch on the CPU all do: im2col and padded copies) and
implementations that skip out-of-range taps (common in direct GPU kernels) are both correct: an
output whose only NaN source is a padded zero times a non-finite weight may be NaN or the value of
the sum over the in-range taps.  :func:`expected_codes` returns both patterns.

**Not terms.**  The positions a stride steps over and the holes between dilated taps are not in the
receptive field: a NaN or Inf there must not reach the output (a kernel dilated by inserting zero
weights and multiplied densely breaks this for a "direct" implementation).

**Zero taps skipped** (capability ``zero_taps: "skip"``, a sparse filter): a weight that is exactly 0 is no
term, so ``NaN * 0`` and ``(+-Inf) * 0`` are not counted; a NaN or Inf reached only through zero weights does
not reach the output, and must not.  The contract's own reading multiplies them.

**"fast" implementations** (FFT, Winograd: ``accuracy="fast"``) transform whole planes and may spread
NaN: an output whose exact value is NaN must be NaN and one whose exact value is +-Inf must be that
infinity or NaN; an output whose exact value is finite may be NaN or +-Inf only when its (image,
output channel) plane reads a special value (in x[n] of its group, w[o] or b[o]); every finite
output is held to the fast (normwise) bound.  The guard's "NaN/Inf from finite input" check only
applies when every input is finite.

The reference counts special terms with indicator arrays (0/1) summed by :func:`convspec.truth.reference.direct`
-- exact small integers -- so no BLAS shortcut (some skip zero factors) can change the pattern.

The check that applies the rule to a backend's result is :func:`convspec.truth.oracle.check_special`; the
strategy that injects special values is :mod:`convspec.drawing.special`.
"""

from __future__ import annotations

import numpy as np

from convspec.model.case import Case
from convspec.model.problem import Problem
from convspec.truth import reference as ref

FINITE, POS_INF, NEG_INF, NAN = 0, 1, 2, 3
CODE_NAMES = {FINITE: "finite", POS_INF: "+inf", NEG_INF: "-inf", NAN: "nan"}


def codes(y) -> np.ndarray:
    """Classify each element: FINITE, POS_INF, NEG_INF or NAN."""
    y = np.asarray(y, dtype=np.float64)
    out = np.zeros(y.shape, dtype=np.int8)
    out[np.isposinf(y)] = POS_INF
    out[np.isneginf(y)] = NEG_INF
    out[np.isnan(y)] = NAN
    return out


def _classes(a):
    """Indicator arrays (float64 0/1) of a's elements: nan, +inf, -inf, zero, finite > 0, finite < 0."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return {"nan": np.isnan(a), "pinf": np.isposinf(a), "ninf": np.isneginf(a), "zero": a == 0,
                "pos": np.isfinite(a) & (a > 0), "neg": np.isfinite(a) & (a < 0)}


def _counts(pairs, p: Problem) -> list:
    """For each (xi, wi) of ``pairs``: sum over the taps of xi * wi per output (xi already padded), exact
    small integers.  One conv of every pair at once: the pairs are stacked as extra groups (x's along the
    channel axis, w's along the output axis, G' = len(pairs) G), so pair j's outputs are block j."""
    xs = np.concatenate([np.asarray(xi, dtype=np.float64) for xi, _ in pairs], axis=1)
    ws = np.concatenate([np.broadcast_to(np.asarray(wi, dtype=np.float64), np.shape(pairs[0][1])) for _, wi in pairs],
                        axis=0)
    y = ref.direct(xs, ws, None, stride=p.stride, padding=0, dilation=p.dilation, groups=len(pairs) * p.g)
    return np.split(y, len(pairs), axis=1)


def expected_codes(case, padding_terms: bool, skip_zero_taps: bool = False) -> np.ndarray:
    """The exact special-value pattern of conv2d on ``case`` (codes per output element).

    ``padding_terms``: padded positions are zeros that are multiplied (True) or skipped (False).
    ``skip_zero_taps`` (capability ``zero_taps: "skip"``): a weight that is exactly zero is no term, so neither
    NaN x 0 nor +-Inf x 0 is counted; every other term is as above.
    """
    p = case.problem
    X, W = _classes(case.x), _classes(case.w)
    # the weights a NaN input meets, and the zero weights an infinite input meets: with zero taps skipped, a zero
    # weight multiplies nothing
    nan_w = ~W["zero"] if skip_zero_taps else np.ones(np.shape(case.w))
    zero_w = np.zeros_like(W["zero"]) if skip_zero_taps else W["zero"]
    pad = ((0, 0), (0, 0), *p.pads)          # (before, after) per axis: asymmetric pairs too
    Xp = {k: np.pad(v.astype(np.float64), pad, constant_values=float(padding_terms and k == "zero"))
          for k, v in X.items()}
    Xall = np.pad(np.ones(np.shape(case.x)), pad, constant_values=float(padding_terms))
    Xinf, Winf = Xp["pinf"] + Xp["ninf"], W["pinf"] | W["ninf"]
    wp, wn = W["pos"] | W["pinf"], W["neg"] | W["ninf"]
    c = _counts([(Xp["nan"], nan_w), (Xall, W["nan"]), (Xinf, zero_w), (Xp["zero"], Winf),
                 (Xp["pinf"], wp), (Xp["ninf"], wn), (Xp["pos"], W["pinf"]), (Xp["neg"], W["ninf"]),
                 (Xp["pinf"], wn), (Xp["ninf"], wp), (Xp["pos"], W["ninf"]), (Xp["neg"], W["pinf"])], p)
    nan, pinf, ninf = c[0] + c[1] + c[2] + c[3], c[4] + c[5] + c[6] + c[7], c[8] + c[9] + c[10] + c[11]
    if case.b is not None:
        B = _classes(case.b)
        nan = nan + B["nan"][None, :, None, None]
        pinf = pinf + B["pinf"][None, :, None, None]
        ninf = ninf + B["ninf"][None, :, None, None]
    out = np.zeros(nan.shape, dtype=np.int8)
    out[pinf > 0] = POS_INF
    out[ninf > 0] = NEG_INF
    out[(nan > 0) | ((pinf > 0) & (ninf > 0))] = NAN
    return out


def finite_part(case) -> Case:
    """The case with every special value replaced by 0: its exact result is the value of each output
    element whose expected code is FINITE (with in-range taps only), and its bound is theirs."""
    arrays = {}
    for k, v in case.arrays.items():
        if v is None:
            arrays[k] = None
            continue
        v = np.array(v, copy=True)
        v[~np.isfinite(v)] = 0
        arrays[k] = v
    return Case(case.problem, arrays)


def dirty_planes(case) -> np.ndarray:
    """(N, O) booleans: the (image, output channel) planes that read a special value."""
    p = case.problem
    cg, og = p.c // p.g, p.o // p.g
    xs = (~np.isfinite(np.asarray(case.x, dtype=np.float64))).reshape(p.n, p.g, cg, -1).any(axis=(2, 3))  # (N, G)
    ws = (~np.isfinite(np.asarray(case.w, dtype=np.float64))).reshape(p.o, -1).any(axis=1)               # (O,)
    bs = (~np.isfinite(np.asarray(case.b, dtype=np.float64)) if case.b is not None else np.zeros(p.o, bool))
    return np.repeat(xs, og, axis=1) | ws[None, :] | bs[None, :]


def explain(case, idx) -> str:
    """The first special term of output ``idx`` (n, o, i, j), in words."""
    p = case.problem
    n, o, i, j = idx
    cg, og = p.c // p.g, p.o // p.g
    g = o // og
    if case.b is not None and not np.isfinite(case.b[o]):
        return f"b[{o}] = {case.b[o]}"
    found = []
    (h, w), (kh, kw), (sh, sw), (dh, dw), ((ph, _), (pw, _)) = p.spatial, p.kernel, p.stride, p.dilation, p.pads
    for c in range(cg):
        for u in range(kh):
            for v in range(kw):
                r, s = i * sh + u * dh - ph, j * sw + v * dw - pw
                inside = 0 <= r < h and 0 <= s < w
                xv = float(case.x[n, g * cg + c, r, s]) if inside else 0.0
                wv = float(case.w[o, c, u, v])
                if np.isfinite(xv) and np.isfinite(wv):
                    continue
                with np.errstate(invalid="ignore"):
                    t = xv * wv
                xname = f"x[{n}, {g * cg + c}, {r}, {s}]" if inside else f"a padded zero (row {r}, column {s})"
                found.append(f"{xname} = {xv} times w[{o}, {c}, {u}, {v}] = {wv} is {t}")
    if not found:
        return "no term is special"
    more = f" (and {len(found) - 1} more special terms)" if len(found) > 1 else ""
    return found[0] + more
