"""The claim corrections of issue 8 ("the claims review"), each shown to bite.

Two kinds of evidence, because a correction either sharpens a property or widens a search:

* **wrong twins** -- an implementation that the *old* property let through and the corrected one
  rejects (run through the engine, and where a property has stages, on a fixed case whose message
  names the stage that fails);
* **reach** -- a widened search (a conditional claim's outside domain, an inside domain, a strategy
  that skipped cases) must reach the class it used to miss: ``hypothesis.find`` must find a member, and
  the old strategy, kept here as a negative control, must not.  A wrong twin cannot show this for an
  outside domain: a larger outside only adds chances to refute, so no implementation is rejected by
  the new outside and accepted by the old one.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from convspec.specs import seed as SD
from convspec.specs.libraries import library as L
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import signal

from convspec.backends import registry as backends
from convspec.backends.base import Backend, load_impl
from convspec.claims import REGISTRY, load_builtin
from convspec.drawing import strategies as S
from convspec.model.case import Case
from convspec.model.problem import Problem
from convspec.search.engine import run_claim, run_once
from tests.conftest import gallery_path
from tests.gallery.twins._base import FakeF
from tests.twins.claim_checks import misses as _misses
from tests.twins.claim_checks import reaches as _reaches
from tests.twins.claim_checks import stage as _stage
from tests.twins.claim_checks import with_ops as _with

load_builtin()



def _rejects(claim_id, be):
    out = run_claim(REGISTRY[claim_id], be, settings.default)
    assert not out.ok, f"{claim_id} did not reject {be.name}: found {out.found} over {out.examples} examples"
    return out


# -- fold-unfold-is-identity --------------------------------------------------------------------

def fold_normalised_by_stride(cols, out, k, stride=1, **kw):
    """An 'averaging' fold that divides by the overlap it assumes, (k/s)^2: right when stride == kernel,
    wrong whenever a single patch spans an axis with another stride."""
    s = stride if isinstance(stride, tuple) else (stride, stride)
    return TF.fold(cols, out, k, stride=stride, **kw) * (s[0] * s[1]) / (k[0] * k[1])


def test_fold_identity_inside_includes_single_patch_any_stride():
    be = _with("torch", "fold-normalised-by-stride", **{"torch.F": FakeF(fold=fold_normalised_by_stride)})
    for ex in L.FOLD_ONCE_EXAMPLES:                       # k=3, H=W=3, stride 2 and 5
        assert L.covered_once(ex.problem)
        _stage("fold-unfold-is-identity", be, ex, "fold(unfold(x)) vs x")
    out = _rejects("fold-unfold-is-identity", be)
    assert out.found == "refuted" and "inside its condition" in out.message


def _torch_coverage(p):
    ones = np.ones(p.x_shape)
    return L._fold_unfold(TF, ones, p)


@settings(max_examples=60, database=None, deadline=None)
@given(L.fold_cases(True))
def test_fold_inside_cases_are_covered_once(case):
    assert np.all(_torch_coverage(case.problem) == 1), case.problem


@settings(max_examples=60, database=None, deadline=None)
@given(L.fold_cases(False))
def test_fold_outside_cases_are_not_covered_once(case):
    assert not np.all(_torch_coverage(case.problem) == 1), case.problem
    assert not L.covered_once(case.problem)


def test_fold_searches_reach_every_class():
    inside, outside = L.fold_cases(True), L.fold_cases(False)
    _reaches(inside, lambda c: c.problem.stride[0] != c.problem.kernel[0] and c.problem.spatial[0] == c.problem.kernel[0] > 1,
             "a single patch with stride != kernel (inside)")
    _reaches(outside, lambda c: (_torch_coverage(c.problem) == 0).any(), "an uncovered pixel (outside)")
    _reaches(outside, lambda c: (_torch_coverage(c.problem) > 1).any(), "a pixel covered twice (outside)")


# -- int64-fft-convolve-is-exact ----------------------------------------------------------------------

def fft_as_float64_direct(a, k, mode="full", method="auto"):
    """An 'FFT' convolution that is really a float64 direct sum, rounded: exact while every partial sum
    stays below 2**53, inexact only beyond -- what the old statement ('refuted beyond 2**53') described."""
    if method == "fft" and np.result_type(a, k).kind == "i":
        return np.round(signal.convolve(a.astype(np.float64), k.astype(np.float64), mode, method="direct")
                        ).astype(np.int64)
    return signal.convolve(a, k, mode, method=method)


def test_int64_fft_refutation_lies_below_2_53():
    be = _with("scipy", "fft-as-float64-direct", **{"scipy.signal.convolve": fft_as_float64_direct})
    out = _rejects("int64-fft-convolve-is-exact", be)
    assert out.found == "no-counterexample"


@settings(max_examples=100, database=None, deadline=None)
@given(L.big_int_cases(*L.FFT_INT_RANGE))
def test_int64_fft_cases_fit_float64(case):
    a, k = case.a.astype(object), case.k.astype(object)
    assert max(a) * max(k) < 2 ** 51
    assert max(L._py_convolve(case.a, case.k)) < 2 ** 53


def test_int64_fft_example_is_below_2_51():
    ex = L.FFT_INT_EXAMPLE
    assert max(L._py_convolve(ex.a, ex.k)) < 2 ** 50.2


# -- empty-batch-ok-zero-spatial-raises -----------------------------------------------------------------

def conv2d_pads_zero_spatial(x, w, *a, padding=0, dilation=1, **kw):
    """Raises for a zero height or width only when the padding cannot cover the kernel (pads first,
    then checks): the escape clause the old property accepted."""
    if x.shape[2] == 0 or x.shape[3] == 0:
        p = padding if isinstance(padding, tuple) else (padding, padding)
        d = dilation if isinstance(dilation, tuple) else (dilation, dilation)
        if 2 * p[0] >= d[0] * (w.shape[2] - 1) + 1 and 2 * p[1] >= d[1] * (w.shape[3] - 1) + 1:
            xp = TF.pad(x, (p[1], p[1], p[0], p[0]))
            return TF.conv2d(xp, w, *a, dilation=dilation, **kw) if xp.numel() else torch.zeros(
                (x.shape[0], w.shape[0], 1, 1), dtype=x.dtype)
    return TF.conv2d(x, w, *a, padding=padding, dilation=dilation, **kw)


def test_zero_spatial_must_raise_whatever_the_padding():
    be = _with("torch", "pads-zero-spatial", **{"torch.F": FakeF(conv2d=conv2d_pads_zero_spatial)})
    _stage("empty-batch-ok-zero-spatial-raises", be, L.EMPTY_EXAMPLES[0], "did not raise")
    _rejects("empty-batch-ok-zero-spatial-raises", be)


def test_empty_batch_search_reaches_padding_that_covers_the_kernel():
    strat = REGISTRY["empty-batch-ok-zero-spatial-raises"].cases(backends.get("torch"))
    _reaches(strat, lambda c: all(2 * lo >= e for (lo, _), e in zip(c.problem.pads, c.problem.extent)),
             "padding that covers the dilated kernel")


# -- np-convolve-same-is-max-length-and-commutes ----------------------------------------------------------

def np_convolve_float32(a, v, mode="full"):
    """np.convolve accumulating in float32: exact on small integers (so the old, integer-only property
    passed it), a float32 rounding error on floats."""
    return np.convolve(a.astype(np.float32), v.astype(np.float32), mode).astype(np.result_type(a, v))


def test_np_convolve_floats_compared_under_the_error_model():
    be = _with("numpy", "np-convolve-float32", **{"np.convolve": np_convolve_float32})
    _rejects("np-convolve-same-is-max-length-and-commutes", be)
    case = L._sig_case(np.array([0.1, 0.2, 0.3]), np.array([0.7, 1e-3, 3.0]), "same", regime="flt")
    _stage("np-convolve-same-is-max-length-and-commutes", be, case, "float64 bound")
    ok, msg = run_once(REGISTRY["np-convolve-same-is-max-length-and-commutes"], backends.get("numpy"), case)
    assert ok == "holds", msg


def test_np_convolve_search_reaches_equal_length_floats():
    _reaches(L.commute_pairs(), lambda c: c.problem.regime == "flt" and c.a.size == c.k.size > 2,
             "equal-length float pairs (the only lengths where the orders differ)")


# -- conv-transpose-is-adjoint --------------------------------------------------------------------------

def _op(p):
    return tuple(L - ((o - 1) * s - 2 * lo + e) for L, o, s, (lo, _), e in zip(p.spatial, p.out_spatial(), p.stride,
                                                                             p.pads, p.extent))


def _old_skip(p):
    op = _op(p)
    return any(max(op) >= max(s, d) for s, d in zip(p.stride, p.dilation))


def conv_transpose_checks_other_axis(y, w, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Validates each axis' output_padding against the *other* axis' stride and dilation (the old skip
    test's mix-up) and drops it when that check fails: wrong shape exactly where the old property skipped."""
    s = stride if isinstance(stride, tuple) else (stride, stride)
    d = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    op = output_padding if isinstance(output_padding, tuple) else (output_padding, output_padding)
    if op[0] >= max(s[1], d[1]) or op[1] >= max(s[0], d[0]):
        op = (0, 0)
    return TF.conv_transpose2d(y, w, stride=stride, padding=padding, output_padding=op, groups=groups,
                               dilation=dilation)


def test_conv_transpose_tests_every_case():
    be = _with("torch", "conv-transpose-checks-other-axis",
               **{"torch.F": FakeF(conv_transpose2d=conv_transpose_checks_other_axis)})
    p = Problem(spatial=(7, 3), kernel=(2, 1), stride=(3, 1))    # output_padding (2, 0): the old test skipped it
    assert _old_skip(p) and _op(p) == (2, 0)
    case = Case(p, {"x": np.arange(21.0).reshape(p.x_shape) - 10, "w": np.array([[[[1.0], [-2.0]]]])})
    _stage("conv-transpose-is-adjoint", be, case, "has shape")
    ok, msg = run_once(REGISTRY["conv-transpose-is-adjoint"], backends.get("torch"), case)
    assert ok == "holds", msg
    _rejects("conv-transpose-is-adjoint", be)


def test_conv_transpose_search_reaches_formerly_skipped_cases():
    strat = REGISTRY["conv-transpose-is-adjoint"].cases(backends.get("torch"))
    _reaches(strat, lambda c: _old_skip(c.problem), "an output_padding the old skip test dropped")


# -- im2col-matmul: block diagonal measured on the backend --------------------------------------------------

def conv2d_group_leak(x, w, b=None, groups=1, **kw):
    """A grouped conv whose groups also see a quarter of the next group's input (a dense W_row)."""
    t = backends.get("torch").op("conv2d")
    y = t(x, w, b, groups=groups, **kw)
    if groups > 1:
        y = y + t(np.ascontiguousarray(np.roll(x, -x.shape[1] // groups, axis=1)), w, None, groups=groups, **kw) / 4
    return y.astype(x.dtype)


def test_im2col_block_diagonal_is_measured_on_the_backend():
    be = Backend("group-leak", {"conv2d": conv2d_group_leak}, backends.get("torch").caps, origin="selftest")
    case = Case.seeded(Problem.parse("n1c4h5w5_o4k3x3_g2"), 3)
    _stage("im2col-matmul", be, case, "W_row is not block diagonal")
    _rejects("im2col-matmul", be)


# -- conv-matrix-is-block-toeplitz: each stage fails on its own ------------------------------------------------

def conv2d_first_row_doubled(x, w, b=None, **kw):
    """Local, reach within C_out/G*kH*kW, but the first output row uses 2w: weights not shared."""
    y = backends.get("torch").op("conv2d")(x, w, b, **kw)
    y[:, :, 0] *= 2
    return y


@pytest.mark.parametrize(("twin", "problem", "fragment"), [
    ("global_mean_leak", "n1c1h4w4_o1k2x2", "reaches"),
    ("padding_one_side", "n1c1h4w4_o1k2x2_p1x1", "outside the receptive fields"),
    ("first-row-doubled", "n1c1h4w4_o1k2x2", "weights not shared"),
    ("flipped_kernel", "n1c1h4w4_o1k2x2", "vs the Toeplitz matrix of w"),
])
def test_block_toeplitz_stages(twin, problem, fragment):
    if twin == "first-row-doubled":
        be = Backend(twin, {"conv2d": conv2d_first_row_doubled}, backends.get("torch").caps, origin="selftest")
    else:
        be = load_impl(gallery_path(twin))
    p = Problem.parse(problem)
    case = Case(p, {"x": np.zeros(p.x_shape), "w": np.array([[[[1.0, -2.0], [3.0, 4.0]]]])})
    _stage("conv-matrix-is-block-toeplitz", be, case, fragment)
    ok, msg = run_once(REGISTRY["conv-matrix-is-block-toeplitz"], backends.get("torch"), case)
    assert ok == "holds", msg


# -- conditional claims: the outside reaches the whole complement -----------------------------------------------

def _mixed(shape):
    return len(shape) == 2 and (shape[0] % 2) != (shape[1] % 2)


@pytest.mark.parametrize(("claim_id", "base", "kernel_of", "old"), [
    ("flipped-correlation-same-mode", "numpy", lambda c: c.problem.k,
     lambda be: S.signal(modes=("same",), kernel_parity="even", regimes=("int",))(be)),
    ("torch-same-vs-signal-correlate-same", "torch", lambda c: c.w.shape[2:],
     lambda be: L.same_cases("even", dilated=False)),
    ("ndimage-constant-equals-convolve2d-same", "scipy", lambda c: c.problem.k,
     lambda be: L.pairs2d("even")),
])
def test_outside_reaches_mixed_parity_kernels(claim_id, base, kernel_of, old):
    be = backends.get(base)
    _reaches(REGISTRY[claim_id].outside(be), lambda c: _mixed(kernel_of(c)), f"a 3x2-like kernel ({claim_id})")
    _misses(old(be), lambda c: _mixed(kernel_of(c)))


def test_np_correlate_outside_reaches_odd_kernels_longer_than_the_signal():
    def odd_longer(c):
        return c.problem.k[0] % 2 == 1 and c.problem.k[0] > c.problem.a[0]
    be = backends.get("torch")
    _reaches(REGISTRY["torch-same-vs-np-correlate-same"].outside(be), odd_longer, "an odd kernel longer than the signal")
    _misses(L.pairs1d(parity="even").filter(lambda c: c.problem.k[0] <= c.problem.a[0]), odd_longer)


# -- symmetric-filter-conv-is-elementwise-sum: the lecture filter is drawable ---------------------------------------

def test_symmetric_inside_draws_the_lecture_filter():
    """The construction maps the lecture filter to itself (so the strategy, which draws every m with
    entries in -3..3, can draw it), the search reaches its class (odd centres, which m + rot180(m) never
    gives), and the filter itself is pinned as an example."""
    be = backends.get("numpy")
    assert np.array_equal(SD._point_symmetric(SD.FILTER), SD.FILTER)
    strat = REGISTRY["symmetric-filter-conv-is-elementwise-sum"].cases(be)

    def odd_centre(k):
        return k.shape == (3, 3) and k[1, 1] % 2 == 1
    _reaches(strat, lambda c: odd_centre(c.k), "a 3x3 kernel with an odd centre, like the lecture filter")
    assert any(np.array_equal(ex.k, SD.FILTER) for ex in REGISTRY["symmetric-filter-conv-is-elementwise-sum"].examples)
    old = st.integers(2, 5).flatmap(lambda n: hnp.arrays(np.float64, (n, n), elements=st.integers(-3, 3).map(float))).map(
        lambda m: m + m[::-1, ::-1])                                                  # the old construction: even centre
    _misses(old, odd_centre)


@settings(max_examples=80, database=None, deadline=None)
@given(st.data())
def test_symmetric_inside_kernels_are_point_symmetric(data):
    case = data.draw(REGISTRY["symmetric-filter-conv-is-elementwise-sum"].cases(backends.get("numpy")))
    assert np.array_equal(case.k, case.k[::-1, ::-1])
