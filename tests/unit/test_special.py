"""Special values: the reference matches a brute-force IEEE sum, the claim accepts the built-in
backends (both padding behaviours) and rejects the ways of getting NaN/Inf wrong."""

from __future__ import annotations

import math

import convspec.specs.contract.special  # noqa: F401  (registers the claim)
import numpy as np
import pytest
from hypothesis import given, settings

from convspec.backends.base import Backend, Capabilities
from convspec.backends.registry import get
from convspec.claims import REGISTRY
from convspec.drawing.special import special_cases
from convspec.model.case import Case
from convspec.model.problem import Problem
from convspec.search.engine import run_claim, run_once
from convspec.truth.special import FINITE, NAN, NEG_INF, POS_INF, codes, expected_codes

CLAIM = "conv2d-propagates-special-values"
nan, inf = math.nan, math.inf


def brute_codes(case, padding_terms):
    """Each output as a Python float sum of its terms, in IEEE arithmetic (independent of the reference)."""
    p = case.problem
    (ho, wo), (h, w), (kh, kw), (sh, sw), (dh, dw) = p.out_spatial(), p.spatial, p.kernel, p.stride, p.dilation
    (ph, _), (pw, _) = p.pads
    cg, og = p.c // p.g, p.o // p.g
    out = np.zeros((p.n, p.o, ho, wo), dtype=np.int8)
    for n in range(p.n):
        for o in range(p.o):
            g = o // og
            for i in range(ho):
                for j in range(wo):
                    terms = []
                    for c in range(cg):
                        for u in range(kh):
                            for v in range(kw):
                                r, s = i * sh + u * dh - ph, j * sw + v * dw - pw
                                if 0 <= r < h and 0 <= s < w:
                                    xv = float(case.x[n, g * cg + c, r, s])
                                elif padding_terms:
                                    xv = 0.0
                                else:
                                    continue
                                wv = float(case.w[o, c, u, v])
                                terms.append(nan if (math.isinf(xv) and wv == 0) or (math.isinf(wv) and xv == 0)
                                             else xv * wv)
                    if case.b is not None:
                        terms.append(float(case.b[o]))
                    total = math.fsum(t for t in terms if math.isfinite(t)) if all(map(math.isfinite, terms)) \
                        else sum(t for t in terms if not math.isfinite(t))
                    out[n, o, i, j] = (NAN if math.isnan(total) else POS_INF if total == inf
                                       else NEG_INF if total == -inf else FINITE)
    return out


def _case(desc, x, w, b=None, **kw):
    p = Problem.parse(desc)
    arrays = {"x": np.array(x, float).reshape(p.x_shape), "w": np.array(w, float).reshape(p.w_shape)}
    if b is not None:
        arrays["b"] = np.array(b, float)
    return Case(p, arrays)


@pytest.mark.parametrize(("case", "with_pad", "without"), [
    (_case("n1c1h1w1_o1k1x1", [nan], [0.0]), NAN, NAN),                         # NaN times 0
    (_case("n1c1h1w1_o1k1x1", [inf], [0.0]), NAN, NAN),                         # Inf times 0
    (_case("n1c1h1w1_o1k1x1", [0.0], [-inf]), NAN, NAN),                        # 0 times -Inf
    (_case("n1c1h1w2_o1k1x2", [inf, -inf], [1.0, 1.0]), NAN, NAN),              # +Inf and -Inf
    (_case("n1c1h1w2_o1k1x2", [inf, 2.0], [-1.0, 1.0]), NEG_INF, NEG_INF),      # Inf times a negative
    (_case("n1c1h1w2_o1k1x2", [-inf, 2.0], [-inf, 1.0]), POS_INF, POS_INF),     # -Inf times -Inf
    (_case("n1c1h1w3_o1k1x2_d1x2", [1.0, nan, 1.0], [1.0, 1.0]), FINITE, FINITE),   # NaN in a dilation hole
    (_case("n1c1h1w3_o1k1x1_s1x2", [1.0, nan, 1.0], [1.0]), FINITE, FINITE),     # NaN stepped over
    (_case("n1c1h1w1_o1k3x3_p1x1", [2.0], [inf, 0, 0, 0, 1, 0, 0, 0, 0]), NAN, FINITE),  # padded zero times Inf
    (_case("n1c1h1w1_o1k1x1_bias", [1.0], [1.0], [-inf]), NEG_INF, NEG_INF),    # the bias is a term
])
def test_the_rule_on_worked_examples(case, with_pad, without):
    assert expected_codes(case, True).ravel()[0] == with_pad
    assert expected_codes(case, False).ravel()[0] == without
    assert brute_codes(case, True).ravel()[0] == with_pad and brute_codes(case, False).ravel()[0] == without


@settings(max_examples=40, deadline=None)
@given(special_cases(Capabilities(dtypes=("f64",)), max_class=1))
def test_reference_equals_a_brute_force_ieee_sum(case):
    for pad in (True, False):
        np.testing.assert_array_equal(expected_codes(case, pad), brute_codes(case, pad))


@pytest.mark.parametrize("name", ["numpy", "numpy-im2col", "scipy", "scipy-fft", "torch", "torch-unfold"])
def test_builtin_backends_follow_the_rule(name):
    o = run_claim(REGISTRY[CLAIM], get(name), settings.default)
    assert o.ok, o.message


def test_torch_skips_padded_taps_where_numpy_multiplies_them():
    """Both padding behaviours occur in the built-in backends, which is why the rule allows both."""
    p = Problem.parse("n2c32h24w24_o32k3x3_s1x1_p1x1_f32_flt")
    case = Case.seeded(p, 1)
    case.w[0, 0, 0, 0] = inf
    a, b = expected_codes(case, True), expected_codes(case, False)
    assert (a != b).any()
    with np.errstate(all="ignore"):
        ys = {n: codes(get(n).op("conv2d")(case.x, case.w, None, **p.kwargs())) for n in ("numpy", "torch")}
    assert (ys["numpy"] == a).all()
    assert ((ys["torch"] == a) | (ys["torch"] == b)).all()


# -- wrong twins -------------------------------------------------------------------------------------

def _numpy_conv(x, w, b=None, **kw):
    return get("numpy").op("conv2d")(x, w, b, **kw)


def _dense_dilated(x, w, b=None, *, dilation=1, **kw):
    """Dilates the kernel by inserting zero weights and multiplies densely: a NaN in a hole spreads."""
    d = dilation if isinstance(dilation, (tuple, list)) else (dilation, dilation)
    o, c, kh, kw_ = w.shape
    wd = np.zeros((o, c, d[0] * (kh - 1) + 1, d[1] * (kw_ - 1) + 1), dtype=w.dtype)
    wd[:, :, ::d[0], ::d[1]] = w
    return _numpy_conv(x, wd, b, dilation=1, **kw)


def _spreads_nan(x, w, b=None, **kw):
    """NaN everywhere as soon as any input is special (an FFT-like plane transform)."""
    y = _numpy_conv(np.nan_to_num(x), np.nan_to_num(w), None if b is None else np.nan_to_num(b), **kw)
    if not (np.isfinite(x).all() and np.isfinite(w).all() and (b is None or np.isfinite(b).all())):
        y[...] = nan
    return y


def _spreads_nan_in_planes(x, w, b=None, *, groups=1, **kw):
    """NaN over every (image, output channel) plane that reads a special value (what FFT does)."""
    y = _numpy_conv(np.nan_to_num(x), np.nan_to_num(w), None if b is None else np.nan_to_num(b), groups=groups, **kw)
    n, o = y.shape[:2]
    xs = (~np.isfinite(x)).reshape(n, groups, -1).any(axis=2)
    dirty = np.repeat(xs, o // groups, axis=1) | (~np.isfinite(w)).reshape(o, -1).any(axis=1)[None]
    if b is not None:
        dirty |= ~np.isfinite(b)[None]
    y[dirty] = nan
    return y


def _hides_nan(x, w, b=None, **kw):
    """Replaces the special values by zeros before convolving."""
    return _numpy_conv(np.nan_to_num(x, posinf=0, neginf=0), np.nan_to_num(w, posinf=0, neginf=0),
                       None if b is None else np.nan_to_num(b, posinf=0, neginf=0), **kw)


def _be(name, fn, accuracy="direct"):
    return Backend(name, {"conv2d": fn}, Capabilities(accuracy=accuracy), origin="selftest")


@pytest.mark.parametrize(("fn", "accuracy"), [(_dense_dilated, "direct"), (_spreads_nan, "direct"),
                                              (_hides_nan, "direct"), (_hides_nan, "fast")])
def test_wrong_special_value_handling_is_rejected(fn, accuracy):
    o = run_claim(REGISTRY[CLAIM], _be(fn.__name__, fn, accuracy), settings.default)
    assert o.found == "refuted", o.message
    assert "expected" in o.message


def test_fast_implementations_may_spread_nan_within_affected_planes():
    o = run_claim(REGISTRY[CLAIM], _be("spreads", _spreads_nan_in_planes, "fast"), settings.default)
    assert o.ok, o.message
    assert run_claim(REGISTRY[CLAIM], _be("spreads", _spreads_nan_in_planes, "direct"), settings.default).found == \
        "refuted"
    # ... but not into planes that read no special value
    p = Problem.parse("n2c1h3w3_o1k1x1")
    case = Case.seeded(p, 0)
    case.x[0, 0, 0, 0] = nan
    status, msg = run_once(REGISTRY[CLAIM], _be("spreads", _spreads_nan, "fast"), case)
    assert status == "mismatch" and "element [1, 0, 0, 0]" in msg, msg
