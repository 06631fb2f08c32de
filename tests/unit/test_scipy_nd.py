"""The scipy backends' conv1d/conv2d/conv3d (issue 10, section 4) against the definition, bit for bit.

``scipy`` builds the layer on ``scipy.signal.correlate`` over the phases of the stride and dilation,
``scipy-ndimage`` on ``scipy.ndimage.correlate`` with its boundary modes (convspec/backends/scipy_backend.py).
Small integer data make every correct result exact, so every comparison here is bitwise: against an
exact N-D reference written in this file (int64 sums of integers of at most 6 in magnitude: no rounding,
no overflow) and against ``convspec.truth.reference.direct(exact=True)``.  Each check is shown to fail on a wrong
twin (an off-by-one phase, the other centring of even kernels, ndimage's 'reflect', a dense dilated
kernel, ndimage's dropped small weights).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from convspec.backends import scipy_backend as sb
from convspec.backends.registry import get
from convspec.truth import reference as ref

NP_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
ENGINES = {"scipy": {1: sb.conv1d, 2: sb.conv2d, 3: sb.conv3d},
           "scipy-ndimage": {1: sb.conv1d_ndimage, 2: sb.conv2d_ndimage, 3: sb.conv3d_ndimage}}


# -- the exact reference and the checking helper ------------------------------------------------------------

def exact_conv(x, w, b=None, *, stride, pads, dilation, groups=1, mode="zeros"):
    """y[n, o, i] = b[o] + sum_c sum_u xp[n, g(o) C/G + c, i s + u d] w[o, c, u] in int64, any rank, with
    xp = np.pad(x, pads, NP_MODE[mode]); exact for the small integers of these tests."""
    xi, wi = x.astype(np.int64), w.astype(np.int64)
    xp = np.pad(xi, ((0, 0), (0, 0), *pads), mode=NP_MODE[mode])
    k = w.shape[2:]
    out = tuple((L - d * (kk - 1) - 1) // s + 1 for L, kk, s, d in zip(xp.shape[2:], k, stride, dilation))
    o_total, cg = w.shape[:2]
    og = o_total // groups
    y = np.zeros((x.shape[0], o_total) + out, dtype=np.int64)
    for u in np.ndindex(*k):
        win = xp[(slice(None), slice(None)) + tuple(slice(ui * d, ui * d + (o - 1) * s + 1, s)
                                                    for ui, d, s, o in zip(u, dilation, stride, out))]
        for o in range(o_total):
            g = o // og
            y[:, o] += np.tensordot(win[:, g * cg:(g + 1) * cg], wi[(o, slice(None)) + u], axes=([1], [0]))
    if b is not None:
        y += b.astype(np.int64).reshape((1, -1) + (1,) * len(k))
    return y


def mismatch(fn, case) -> str | None:
    """None when ``fn`` returns exactly the exact result (dtype of x, shape, every bit), else what is wrong
    (an exception counts as wrong)."""
    want = exact_conv(case["x"], case["w"], case["b"], **case["exact"])
    try:
        y = fn(case["x"], case["w"], case["b"], **case["kwargs"])
    except Exception as e:       # noqa: BLE001 - a twin may also crash; that is caught too
        return f"raised {type(e).__name__}: {e}"
    if not isinstance(y, np.ndarray) or y.dtype != case["x"].dtype or y.shape != want.shape:
        return f"returned {type(y).__name__} {getattr(y, 'dtype', '')}{getattr(y, 'shape', '')}, want " \
               f"{case['x'].dtype}{want.shape}"
    if not np.array_equal(y.astype(np.float64), want.astype(np.float64)):
        bad = np.argwhere(y.astype(np.float64) != want)[0]
        return f"differs at {tuple(bad)}: {y[tuple(bad)]!r} vs {want[tuple(bad)]!r} ({case['kwargs']})"
    return None


def _padding_form(rng, rank, pads):
    """The pads in one of the forms the contract accepts (explicit ones only)."""
    sym = all(a == b for a, b in pads)
    forms = ["pairs", "pairs-list", "mixed"] + (["ints", "np", "list"] + (["int"] if len(set(pads)) == 1 else [])
                                                if sym else [])
    f = forms[rng.integers(len(forms))]
    if f == "pairs":
        return tuple(pads)
    if f == "pairs-list":
        return [list(p) for p in pads]
    if f == "mixed":
        return tuple(a if a == b else (a, b) for a, b in pads)
    if f == "ints":
        return tuple(a for a, _ in pads)
    if f == "np":
        return tuple(np.int64(a) for a, _ in pads)
    if f == "list":
        return [a for a, _ in pads]
    return pads[0][0]


def draw_case(rng, rank, *, mode="zeros", dtype=None, strings=True):
    """A random small problem of ``rank`` spatial axes: stride, dilation and groups up to 3, kernels up to
    4 (even ones included), asymmetric explicit pads, 'same' (stride 1), 'valid', a bias half the time,
    integer data in [-6, 6]; the padding within the mode's limits."""
    k = tuple(int(v) for v in rng.integers(1, 5, rank))
    d = tuple(int(v) for v in rng.integers(1, 4, rank))
    groups, cg, og, n = (int(v) for v in rng.integers(1, [4, 3, 3, 3]))
    choice = rng.integers(6) if strings else 0
    if choice == 4:                                        # 'same': stride 1, d (k - 1) split at the end
        s, padding = (1,) * rank, "same"
        pads = tuple((dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2) for kk, dd in zip(k, d))
    elif choice == 5:
        s = tuple(int(v) for v in rng.integers(1, 4, rank))
        padding, pads = "valid", ((0, 0),) * rank
    else:
        s = tuple(int(v) for v in rng.integers(1, 4, rank))
        pads = tuple((int(a), int(b)) for a, b in rng.integers(0, 4, (rank, 2)))
        padding = _padding_form(rng, rank, pads)
    spatial = []
    for kk, dd, (pb, pa) in zip(k, d, pads):
        lo = max(1, dd * (kk - 1) + 1 - pb - pa)           # at least one output
        if mode == "reflect":
            lo = max(lo, pb + 1, pa + 1)                   # torch: a reflection needs pad < size
        if mode == "circular":
            lo = max(lo, pb, pa)
        spatial.append(int(rng.integers(lo, lo + 6)))
    dt = dtype or (np.float64, np.float32)[rng.integers(2)]
    x = rng.integers(-6, 7, (n, groups * cg, *spatial)).astype(dt)
    w = rng.integers(-6, 7, (groups * og, cg, *k)).astype(dt)
    b = rng.integers(-6, 7, groups * og).astype(dt) if rng.integers(2) else None
    stride = s if rng.integers(2) else (list(s) if len(set(s)) > 1 else s[0])
    kwargs = dict(stride=stride, padding=padding, dilation=d, groups=groups)
    if mode != "zeros":
        kwargs["padding_mode"] = mode
    return {"x": x, "w": w, "b": b, "kwargs": kwargs,
            "exact": dict(stride=s, pads=pads, dilation=d, groups=groups, mode=mode)}


def cases(rank, count, seed=0, **kw):
    rng = np.random.default_rng(1000 * rank + seed)
    return [draw_case(rng, rank, **kw) for _ in range(count)]


# -- the backends against the definition ---------------------------------------------------------------------

@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_bit_exact_against_the_definition(engine, rank):
    """Random problems (stride, dilation, groups, asymmetric pairs, 'same' with even kernels, 'valid', bias,
    every padding form): every bit equals the exact sum."""
    fn = ENGINES[engine][rank]
    bad = [m for m in (mismatch(fn, c) for c in cases(rank, 40)) if m]
    assert not bad, f"{engine} conv{rank}d: {len(bad)} of 40 wrong, first: {bad[0]}"


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_exact_reference_agrees_with_specs_reference(rank):
    """The test's own reference is the suite's: reference.direct(exact=True) on the same problems."""
    for c in cases(rank, 15, seed=1):
        e = c["exact"]
        want = ref.direct(c["x"], c["w"], c["b"], stride=e["stride"], padding=e["pads"], dilation=e["dilation"],
                          groups=e["groups"], exact=True)
        assert np.array_equal(want.astype(np.int64), exact_conv(c["x"], c["w"], c["b"], **e))


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_same_padding_puts_the_extra_element_at_the_end(engine):
    """padding='same' keeps the size for even kernels and dilations and pads d (k - 1) // 2 before."""
    rng = np.random.default_rng(7)
    for rank in (1, 2, 3):
        fn = ENGINES[engine][rank]
        for k, d in (((2,) * rank, (1,) * rank), ((4,) * rank, (3,) * rank), ((2, 3, 4)[:rank], (2, 1, 3)[:rank])):
            x = rng.integers(-6, 7, (1, 2) + (5,) * rank).astype(np.float64)
            w = rng.integers(-6, 7, (2, 2) + k).astype(np.float64)
            y = fn(x, w, padding="same", dilation=d)
            pads = tuple((dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2) for kk, dd in zip(k, d))
            assert y.shape == (1, 2) + (5,) * rank
            assert np.array_equal(y, exact_conv(x, w, stride=(1,) * rank, pads=pads, dilation=d))


# -- the padding modes of scipy-ndimage ------------------------------------------------------------------

def _far(case):
    """Whether some axis's padding is materialised with np.pad (the conv's outputs, at i*s, reach beyond
    ndimage's output grid of the input's extent)."""
    e, x = case["exact"], case["x"]
    out = [(L + pb + pa - d * (k - 1) - 1) // s + 1
           for L, k, s, (pb, pa), d in zip(x.shape[2:], case["w"].shape[2:], e["stride"], e["pads"], e["dilation"])]
    return any((o - 1) * s > L - 1 for o, s, L in zip(out, e["stride"], x.shape[2:]))


@pytest.mark.parametrize("mode", sb.PADDING_MODES)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_padding_modes_equal_np_pad_then_conv(mode, rank):
    """conv(padding_mode=m) == the exact conv of np.pad(x, mode=reflect/edge/wrap/constant) without padding,
    both where ndimage's own boundary mode makes the padding and where it is materialised first."""
    fn = ENGINES["scipy-ndimage"][rank]
    cs = cases(rank, 40, seed=2, mode=mode)
    bad = [m for m in (mismatch(fn, c) for c in cs) if m]
    assert not bad, f"conv{rank}d padding_mode={mode!r}: {len(bad)} of 40 wrong, first: {bad[0]}"
    far = sum(map(_far, cs))
    assert 0 < far < len(cs), f"{far} of {len(cs)} cases materialise the padding: both paths must be drawn"


def test_reflect_as_ndimage_reflect_is_caught(monkeypatch):
    """Wrong twin: ndimage's own 'reflect' repeats the edge sample (np.pad 'symmetric'), not torch's reflect."""
    monkeypatch.setitem(sb._NDIMAGE_MODE, "reflect", "reflect")
    cs = [c for c in cases(2, 40, seed=2, mode="reflect") if not _far(c)]
    assert any(mismatch(sb.conv2d_ndimage, c) for c in cs)


def test_ndimage_boundary_modes_are_np_pad_modes():
    """The mapping, by experiment on this scipy: for filters 'mirror' == np.pad reflect, 'nearest' == edge,
    'wrap' == 'grid-wrap' == wrap (also reaching several periods out), 'constant' == zeros; ndimage's
    'reflect' is np.pad's 'symmetric'."""
    rng = np.random.default_rng(3)
    pairs = [("mirror", "reflect"), ("nearest", "edge"), ("wrap", "wrap"), ("grid-wrap", "wrap"),
             ("constant", "constant"), ("reflect", "symmetric")]
    for L in range(2, 7):
        x = rng.integers(-9, 10, L).astype(np.float64)
        for reach in range(0, 3 * L):
            left = np.zeros(2 * reach + 1)
            left[0] = 1.0                                  # z[i] = x_ext[i - reach]
            for nd_mode, np_mode in pairs:
                z = ndimage.correlate(x, left, mode=nd_mode, cval=0.0)
                assert np.array_equal(z, np.pad(x, reach, mode=np_mode)[:L]), (nd_mode, L, reach)


@pytest.mark.parametrize("engine", ["scipy-ndimage"])
def test_padding_mode_limits_are_enforced(engine):
    fn = ENGINES[engine][2]
    x, w = np.ones((1, 1, 3, 4)), np.ones((1, 1, 1, 1))
    with pytest.raises(ValueError, match="reflect.*below the input size"):
        fn(x, w, padding=((3, 0), (0, 0)), padding_mode="reflect")
    assert fn(x, w, padding=((2, 0), (0, 3)), padding_mode="reflect").shape == (1, 1, 5, 7)
    assert fn(x, w, padding=((3, 3), (4, 4)), padding_mode="circular").shape == (1, 1, 9, 12)
    with pytest.raises(ValueError, match="circular.*at most the input size"):
        fn(x, w, padding=((0, 4), (0, 0)), padding_mode="circular")
    with pytest.raises(ValueError, match="padding_mode='mirror'"):
        fn(x, w, padding_mode="mirror")


# -- ndimage's centring, footprint and arithmetic --------------------------------------------------------

def test_ndimage_centres_even_kernels_on_the_later_middle_tap():
    """z[i] = sum_j x[i + j - c] K[j] with c = len(K) // 2 + origin: for K = [1, 0] that is x[i - 1]."""
    x = np.arange(1.0, 7.0)
    assert np.array_equal(ndimage.correlate(x, np.array([1.0, 0.0]), mode="constant"), [0, 1, 2, 3, 4, 5])
    assert np.array_equal(ndimage.correlate(x, np.array([1.0, 0.0]), mode="constant", origin=-1), x)
    with pytest.raises(ValueError, match="origin"):
        ndimage.correlate(x, np.array([1.0, 0.0]), origin=1)


def test_other_centring_of_even_kernels_is_caught(monkeypatch):
    """Wrong twin: the centre at (len - 1) // 2 (the earlier middle tap) shifts every even-length kernel."""
    good = sb._dilated

    def twin(k, args):
        K, origin = good(k, args)
        return K, tuple(pb - (n - 1) // 2 for (pb, _), n in zip(args.pads, K.shape))
    monkeypatch.setattr(sb, "_dilated", twin)
    bad = [mismatch(sb.conv2d_ndimage, c) for c in cases(2, 40)]
    assert any(bad)


def test_ndimage_drops_weights_up_to_dbl_epsilon_and_the_backend_does_not():
    """NI_Correlate keeps only |w| > DBL_EPSILON (scipy/ndimage/src/ni_filters.c): a weight of 2**-52 or less,
    zero or NaN is never multiplied.  The backend scales such weights by powers of two (exact) and adds back
    the zero/NaN terms that matter, so dyadic weights far below 2**-52 give the exact sum."""
    x = np.array([2.0 ** 60, 3.0 * 2 ** 60, -(2.0 ** 61), 5.0 * 2 ** 60])
    assert ndimage.correlate(x, np.array([2.0 ** -52]), mode="constant")[0] == 0.0          # dropped
    assert ndimage.correlate(x, np.array([2.0 ** -51]), mode="constant")[0] == 2.0 ** 9     # kept
    rng = np.random.default_rng(4)
    for rank in (1, 2, 3):
        for _ in range(10):
            k = tuple(int(v) for v in rng.integers(1, 4, rank))
            # per-tap exponents within 40 binades (every sum exact in float64), 2**-200 .. 2**-53
            base = int(rng.integers(-200, -92))
            w = rng.integers(-6, 7, (2, 1) + k) * 2.0 ** (base + rng.integers(0, 40, (2, 1) + k))
            x = rng.integers(-6, 7, (1, 1) + (5,) * rank).astype(np.float64)
            want = ref.direct(x, w, padding=1)
            assert np.array_equal(ENGINES["scipy-ndimage"][rank](x, w, padding=1), want)
            assert np.array_equal(ENGINES["scipy"][rank](x, w, padding=1), want)


def test_weights_in_several_bands_are_scaled_back_exactly():
    """Weights 2**-20, 2**-60, 2**-160 and 2**-260 fall in four bands (one unscaled, three scaled by
    different powers of two); with every other input zero each output holds one term, so it is exact."""
    w = np.array([[[3 * 2.0 ** -20, 5 * 2.0 ** -60, -7 * 2.0 ** -160, 2.0 ** -260]]])
    bands, dropped = sb._weight_bands(w[0, 0])
    assert len(bands) == 4 and not dropped.any()
    x = np.zeros((1, 1, 16))
    x[0, 0, ::4] = np.arange(1.0, 5.0)                      # each window of 4 taps holds one nonzero input
    y = sb.conv1d_ndimage(x, w, padding=((3, 0),))
    assert np.array_equal(y, ref.direct(x, w, padding=((3, 0),)))
    assert np.count_nonzero(y) == 16


def test_without_the_scaling_small_weights_are_lost(monkeypatch):
    """Wrong twin: one band, unscaled (what plain ndimage.correlate does)."""
    def one_band(k):
        return [(0, np.where(np.isnan(k), 0.0, k))], np.isnan(k) | (k == 0)
    monkeypatch.setattr(sb, "_weight_bands", one_band)
    x, w = np.ones((1, 1, 4)), np.full((1, 1, 2), 2.0 ** -60)
    assert not np.array_equal(sb.conv1d_ndimage(x, w), ref.direct(x, w))


def test_ndimage_accumulates_in_float64_and_returns_float32():
    """ndimage reads float32 data as double: 1 + 2**-30 - 1 is exactly 2**-30 (a float32 accumulator gives 0),
    well inside the float32 error model; the result is float32."""
    x = np.array([[[1.0, 2.0 ** -30, -1.0]]], dtype=np.float32)
    w = np.ones((1, 1, 3), dtype=np.float32)
    y = sb.conv1d_ndimage(x, w)
    assert y.dtype == np.float32 and y[0, 0, 0] == np.float32(2.0 ** -30)
    assert ndimage.correlate(x[0, 0], w[0, 0], mode="constant").dtype == np.float32


# -- special values ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_nan_between_dilated_taps_never_reaches_the_output(engine, rank):
    """NaN and Inf everywhere except at the positions the taps read (stride and dilation with a common factor,
    so whole rows/planes lie between the taps): the output is the exact finite sum (the definition has no term
    there)."""
    fn = ENGINES[engine][rank]
    rng = np.random.default_rng(5)
    for d, s in ((2, 2), (3, 3), (2, 4), (4, 2)):
        k = 3
        L = d * (k - 1) + 1 + s * 2
        x = rng.integers(-6, 7, (1, 1) + (L,) * rank).astype(np.float64)
        w = rng.integers(1, 7, (1, 1) + (k,) * rank).astype(np.float64)
        read = np.zeros((L,) * rank, dtype=bool)
        out = (L - d * (k - 1) - 1) // s + 1
        for i in np.ndindex(*(out,) * rank):
            for u in np.ndindex(*(k,) * rank):
                read[tuple(ii * s + uu * d for ii, uu in zip(i, u))] = True
        assert (~read).any()
        dirty = x.copy()
        dirty[0, 0][~read] = rng.choice([np.nan, np.inf, -np.inf], size=int((~read).sum()))
        y = fn(dirty, w, stride=s, dilation=d)
        assert np.isfinite(y).all(), f"{engine} conv{rank}d d={d} s={s}: a value between the taps reached the output"
        assert np.array_equal(y, exact_conv(x, w, stride=(s,) * rank, pads=((0, 0),) * rank, dilation=(d,) * rank))


def test_dense_dilated_kernel_is_caught():
    """Wrong twin: dilation by a kernel with zeros inserted multiplies the NaN in the holes (0 * NaN)."""
    def dense(x, w, b=None, *, dilation=1, **kw):
        wd = np.zeros((1, 1, 2 * (w.shape[2] - 1) + 1))
        wd[:, :, ::2] = w
        return sb.conv1d(x, wd, b, **kw)
    x = np.array([[[1.0, np.nan, 2.0, np.nan, 3.0]]])
    w = np.array([[[1.0, 1.0, 1.0]]])
    assert np.isfinite(sb.conv1d(x, w, dilation=2)).all()
    assert not np.isfinite(dense(x, w, dilation=2)).all()


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_zero_and_nan_weights_are_ieee_terms(engine):
    """0 * NaN, 0 * Inf and NaN * x are NaN terms (the contract's rule): ndimage's footprint skips them, the
    backend adds them back."""
    fn = ENGINES[engine][1]
    x = np.array([[[1.0, np.nan, 2.0, np.inf, 3.0, 4.0]]])
    y = fn(x, np.array([[[1.0, 0.0]]]))
    assert np.array_equal(np.isnan(y), [[[True, True, True, False, False]]])   # inf + 0*3 is inf
    assert y[0, 0, 3] == np.inf and y[0, 0, 4] == 3.0
    y = fn(np.arange(4.0)[None, None], np.array([[[np.nan, 1.0]]]))
    assert np.isnan(y).all()
    y = fn(np.arange(4.0)[None, None], np.array([[[np.inf, 1.0]]]))
    assert np.isnan(y[0, 0, 0]) and np.isinf(y[0, 0, 1:]).all()       # 0 * Inf, then x * Inf


# -- the phase computation, its wrong twin, argument forms and errors ---------------------------------------

def test_phases_cover_every_output_once():
    for s in range(1, 5):
        for d in range(1, 5):
            ph = sb._phases(7, s, d)
            got = sorted((int(i), r, int(q)) for r, (ii, qq) in ph.items() for i, q in zip(ii, qq))
            assert got == [(i, (i * s) % d, (i * s) // d) for i in range(7)]


@pytest.mark.parametrize("twin", ["q+1", "r+1"])
def test_phase_off_by_one_is_caught(monkeypatch, twin):
    """Wrong twin: an off-by-one in the phase entry (q) or the phase (r) is rejected by :func:`mismatch` on
    the same random problems the correct code passes."""
    good = sb._phases

    def off(n_out, s, d):
        ph = good(n_out, s, d)
        if twin == "q+1":
            return {r: (ii, np.where(ii == ii[-1], qq, qq + 1) if len(ii) > 1 else qq) for r, (ii, qq) in ph.items()}
        return {(r + 1) % d: v for r, v in ph.items()}
    cs = cases(2, 40, seed=9)
    assert not any(mismatch(sb.conv2d, c) for c in cs)
    monkeypatch.setattr(sb, "_phases", off)
    assert any(mismatch(sb.conv2d, c) for c in cs)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_argument_forms_and_layouts_give_the_same_bits(engine):
    fn = ENGINES[engine][3]
    rng = np.random.default_rng(6)
    x = rng.integers(-6, 7, (2, 4, 5, 6, 7)).astype(np.float32)
    w = rng.integers(-6, 7, (4, 2, 2, 3, 2)).astype(np.float32)
    b = rng.integers(-6, 7, 4).astype(np.float32)
    plain = fn(x, w, b, stride=(1, 2, 1), padding=((1, 0), 1, (0, 2)), dilation=(2, 1, 1), groups=2)
    xf, wn = np.asfortranarray(x), np.ascontiguousarray(w[::-1])[::-1]
    xf.flags.writeable = False
    for kw in (dict(stride=[np.int64(1), 2, 1], padding=[[1, 0], (1, 1), (0, np.int32(2))], dilation=(2, 1, 1)),
               dict(stride=(1, 2, 1), padding=np.array([[1, 0], [1, 1], [0, 2]]), dilation=[2, 1, 1])):
        y = fn(xf, wn, b, groups=np.int64(2), **kw)
        assert y.dtype == np.float32 and np.array_equal(y, plain) and not np.shares_memory(y, x)


@pytest.mark.parametrize(("kw", "err", "match"), [
    (dict(stride=True), TypeError, "stride: expected an integer, not the bool"),
    (dict(padding=1.0), TypeError, "padding: expected an integer"),
    (dict(padding=(1, 2, 3)), ValueError, r"expected an int or 2 entries"),
    (dict(padding=((1, 2, 3), 0)), ValueError, r"is not \(before, after\)"),
    (dict(padding=-1), ValueError, "must be >= 0"),
    (dict(padding="same", stride=2), ValueError, "'same' needs stride 1"),
    (dict(padding="full"), ValueError, "expected 'valid', 'same'"),
    (dict(dilation=0), ValueError, ">= 1"),
    (dict(groups=3), ValueError, "groups=3 does not fit"),
    (dict(padding=0, dilation=9), ValueError, "larger than the padded input"),
])
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_bad_arguments_get_a_clear_error(engine, kw, err, match):
    x, w = np.ones((1, 2, 5, 5)), np.ones((2, 2, 2, 2))
    with pytest.raises(err, match=match):
        ENGINES[engine][2](x, w, **kw)


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="spatial axes"):
        sb.conv3d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="bias of shape"):
        sb.conv1d_ndimage(np.ones((1, 1, 4)), np.ones((2, 1, 2)), np.ones(3))
    with pytest.raises(ValueError, match="zero fill"):
        sb.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), padding_mode="reflect")


def test_backends_declare_what_they_do():
    s, nd = get("scipy"), get("scipy-ndimage")
    assert {"conv1d", "conv2d", "conv3d", "convolve2d", "correlate2d", "scipy.ndimage.correlate"} <= s.provides
    assert s.caps.padding_strings and s.caps.padding_modes == ("zeros",)
    assert nd.provides == {"conv1d", "conv2d", "conv3d"}
    assert nd.caps.padding_strings and set(nd.caps.padding_modes) == set(sb.PADDING_MODES)
    assert set(nd.caps.dtypes) == {"f64", "f32"} and nd.caps.accuracy == "direct"
