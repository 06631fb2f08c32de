"""The conv family on the CUDA path (issue 10, section 4): the numba-cuda gather kernel for conv_transpose2d,
conv2d_input through it, and the weight-gradient kernel -- bit for bit against the exact integer references
of :mod:`convspec.truth.reference` on hand-picked parameter combinations, and the registered family claims catch each
deliberately broken kernel (no divisibility check in the gather, kernel not rotated, no dilation in the
weight gradient).  On the simulator without a GPU; problems stay small (every thread is a Python thread)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, settings

from convspec.claims import REGISTRY, applicable, load_builtin
from convspec.search.engine import run_claim
from convspec.truth import reference as ref

load_builtin()
pytestmark = pytest.mark.cuda
FAMILY = ("conv_transpose2d", "conv2d_input", "conv2d_weight")
DTYPES = (np.float32, np.float64)


def _backend(variant="ok"):
    from convspec.backends.numba_cuda_backend import make_backend
    return make_backend("direct", variant)


def _ints(rng, shape, dtype, lo=-4, hi=5):
    return rng.integers(lo, hi, size=shape).astype(dtype)


def _exact(y):
    """A float result as Python ints (it must be integer-valued: integer data, sums far below 2**24)."""
    y = np.asarray(y, dtype=np.float64)
    assert np.array_equal(y, np.round(y))
    return np.vectorize(int, otypes=[object])(y)


# (N, C_in, H, W, C_out, kH, kW, stride, padding, output_padding, dilation, groups, bias)
TRANSPOSE = [
    (1, 1, 3, 3, 1, 3, 3, 1, 0, 0, 1, 1, False),               # plain full correlation with rot180
    (2, 2, 3, 4, 3, 3, 2, 2, 1, 1, 1, 1, True),                # stride 2, output_padding 1 < stride
    (1, 4, 3, 3, 6, 2, 3, (2, 3), (1, 0), (1, 2), (1, 2), 2, True),   # groups, asymmetric everything
    (1, 1, 4, 2, 1, 2, 2, 1, 0, (2, 1), (3, 2), 1, False),     # output_padding >= stride, below the dilation
    (2, 3, 2, 3, 3, 3, 3, 3, (2, 1), (2, 0), (2, 1), 3, True), # depthwise-like, stride 3, padding crops taps
    (1, 2, 3, 3, 2, 4, 1, (1, 2), (3, 0), 0, (2, 1), 2, False),# padding > dilation: negative numerators
    (1, 1, 1, 1, 2, 1, 1, 3, 0, 2, 1, 1, True),                # a single pixel, output_padding only
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("k", range(len(TRANSPOSE)), ids=[f"t{i}" for i in range(len(TRANSPOSE))])
def test_conv_transpose2d_is_bit_exact(k, dtype):
    n, c, h, w, o, kh, kw, s, p, op, d, g, bias = TRANSPOSE[k]
    rng = np.random.default_rng(k)
    x, wt = _ints(rng, (n, c, h, w), dtype), _ints(rng, (c, o // g, kh, kw), dtype)
    b = _ints(rng, (o,), dtype) if bias else None
    kw_ = dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    y = _backend().op("conv_transpose2d")(x, wt, b, **kw_)
    want = ref.conv_transpose2d(x, wt, b, exact=True, **kw_)
    assert y.dtype == dtype and y.shape == want.shape
    assert np.array_equal(_exact(y), want)


# (N, C, H, W, O, kH, kW, stride, padding, dilation, groups) of the forward conv2d
GRADIENT = [
    (1, 1, 5, 5, 1, 3, 3, 1, 0, 1, 1),
    (2, 2, 6, 5, 3, 3, 2, 2, 1, 1, 1),                          # stride 2: output_padding 1 on H, 0 on W
    (1, 4, 7, 6, 2, 2, 3, (3, 2), (1, 2), (2, 1), 2),
    (2, 3, 5, 4, 3, 2, 2, 1, (2, 0), (3, 2), 3),                # padding > dilation (taps read only zeros)
    (1, 2, 4, 6, 4, 3, 1, (2, 3), 0, (1, 2), 1),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("k", range(len(GRADIENT)), ids=[f"g{i}" for i in range(len(GRADIENT))])
def test_gradients_are_bit_exact(k, dtype):
    n, c, h, w, o, kh, kw, s, p, d, g = GRADIENT[k]
    rng = np.random.default_rng(100 + k)
    x, wt = _ints(rng, (n, c, h, w), dtype), _ints(rng, (o, c // g, kh, kw), dtype)
    kw_ = dict(stride=s, padding=p, dilation=d, groups=g)
    gy = _ints(rng, ref.direct(x, wt, **kw_).shape, dtype)
    be = _backend()
    gi = be.op("conv2d_input")(x.shape, wt, gy, **kw_)
    assert gi.dtype == dtype and gi.shape == x.shape
    assert np.array_equal(_exact(gi), ref.conv2d_input(x.shape, wt, gy, exact=True, **kw_))
    gw = be.op("conv2d_weight")(x, wt.shape, gy, **kw_)
    assert gw.dtype == dtype and gw.shape == wt.shape
    assert np.array_equal(_exact(gw), ref.conv2d_weight(x, wt.shape, gy, exact=True, **kw_))


def test_broken_gather_differs_where_the_stride_does_not_divide():
    """Floor division without the divisibility check reads input rows between the strided positions: a
    stride-2 problem shows it; at stride 1 every numerator is divisible and the variant is right."""
    rng = np.random.default_rng(1)
    x, w = _ints(rng, (1, 1, 3, 3), np.float64, 1, 5), _ints(rng, (1, 1, 3, 3), np.float64, 1, 5)
    bad = _backend("transpose_divisibility").op("conv_transpose2d")
    assert not np.array_equal(_exact(bad(x, w, stride=2)), ref.conv_transpose2d(x, w, stride=2, exact=True))
    assert np.array_equal(_exact(bad(x, w, stride=1)), ref.conv_transpose2d(x, w, stride=1, exact=True))


@pytest.mark.parametrize("variant, claim_id", [
    ("transpose_divisibility", "conv-transpose2d-matches-definition"),
    ("transpose_divisibility", "conv-transpose2d-is-adjoint-of-conv2d"),   # no reference needed
    ("transpose_no_flip", "conv-transpose2d-matches-definition"),
    ("transpose_no_flip", "conv-transpose2d-is-adjoint-of-conv2d"),
    ("transpose_no_flip", "conv2d-input-matches-definition"),           # conv2d_input goes through the gather
    ("weight_no_dilation", "conv2d-weight-matches-definition"),
    ("weight_no_dilation", "conv2d-weight-is-correlation-of-input-and-grad"),
])
def test_broken_family_kernel_is_caught(variant, claim_id):
    """Found without shrinking (on the simulator a shrink of hundreds of kernel launches takes a minute)."""
    no_shrink = settings(settings.default, phases=[Phase.explicit, Phase.reuse, Phase.generate])
    out = run_claim(REGISTRY[claim_id], _backend(variant), no_shrink)
    assert not out.ok, f"broken kernel {variant} passed {claim_id}"
    assert out.found in ("refuted", "broken")
    assert out.case is not None and str(out.case.problem) in out.message + out.repro


def test_family_claims_apply_to_the_cuda_backend():
    """numba-cuda-direct provides the whole family, so every family claim that needs only conv2d and the family
    ops runs on the CUDA path (tests/integration/test_claims.py runs them; here: none of them is skipped)."""
    be = _backend()
    assert set(FAMILY) <= be.provides
    family = [c for c in REGISTRY.values() if c.needs & set(FAMILY) and c.needs <= {"conv2d", *FAMILY}]
    assert len(family) >= 6
    for c in family:
        ok, why = applicable(c, be)
        assert ok, f"{c.id} skipped on {be.name}: {why}"


def test_family_inputs_stay_untouched():
    """Read-only, Fortran-ordered and negatively strided inputs work and are never written."""
    rng = np.random.default_rng(2)
    x = np.asfortranarray(_ints(rng, (1, 2, 4, 3), np.float32))
    w = _ints(rng, (2, 3, 2, 2), np.float32)[:, :, ::-1]
    gy = _ints(rng, (1, 2, 3, 2), np.float32)
    keep = [a.copy() for a in (x, w, gy)]
    for a in (x, w, gy):
        a.flags.writeable = False
    be = _backend()
    y = be.op("conv_transpose2d")(x, w, None, stride=(1, 2), output_padding=(0, 1))
    assert np.array_equal(_exact(y), ref.conv_transpose2d(x, w, stride=(1, 2), output_padding=(0, 1), exact=True))
    gw = be.op("conv2d_weight")(x, (2, 2, 2, 2), gy)
    assert np.array_equal(_exact(gw), ref.conv2d_weight(x, (2, 2, 2, 2), gy, exact=True))
    assert all(np.array_equal(a, k) for a, k in zip((x, w, gy), keep))


@pytest.mark.parametrize("call, match", [
    (lambda be: be.op("conv_transpose2d")(np.zeros((1, 2, 3, 3)), np.zeros((3, 1, 2, 2))), "input channels"),
    (lambda be: be.op("conv_transpose2d")(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)), stride=2,
                                          output_padding=2), "output_padding"),
    (lambda be: be.op("conv_transpose2d")(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)), np.zeros(2)), "bias"),
    (lambda be: be.op("conv_transpose2d")(np.zeros((1, 3, 3)), np.zeros((1, 1, 2, 2))), "4-D"),
    (lambda be: be.op("conv2d_input")((1, 1, 9, 9), np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 3, 3))),
     "not conv2d's output"),
    (lambda be: be.op("conv2d_weight")(np.zeros((1, 2, 5, 5)), (1, 1, 3, 3), np.zeros((1, 1, 3, 3))),
     "do not fit"),
])
def test_bad_family_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(_backend())


def test_variants_belong_to_their_kernel():
    from convspec.backends.numba_cuda_backend import make_backend
    assert make_backend("direct", "transpose_no_flip").name == "numba-cuda-direct-transpose_no_flip"
    with pytest.raises(ValueError, match="variant"):
        make_backend("direct", "no_halo")
    with pytest.raises(ValueError, match="variant"):
        make_backend("tiled", "transpose_divisibility")
    assert "conv_transpose2d" not in make_backend("tiled").provides
