"""The pitfall claims of specs/libraries/pitfalls.py (issue 10, section 5): each verdict as expected on the real
library, each property shown able to fail (the wrong twin its declaration names), the stage a
twin fails at on a fixed case, and the searches reaching the classes the statements are about.

A claim measured under a machine condition (:mod:`convspec.model.machine`: the CPU kernels torch picks, scipy's release)
gets its verdict checked only where the condition holds, and is skipped with the condition's reason elsewhere;
tests/unit/test_machine_conditions.py forces the conditions both ways."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from convspec.specs.libraries import pitfalls as PF
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from convspec.backends import registry as backends
from convspec.claims import CONDITIONAL, HOLDS, REFUTED, REGISTRY, load_builtin
from convspec.model import machine
from convspec.model.case import Case
from convspec.model.problem import Problem, SignalProblem, TransposeProblem
from convspec.search.engine import run_claim, run_once
from tests.conftest import twin_backend
from tests.gallery.twins._base import torch_with_F
from tests.gallery.twins._ndimage import nd_backend as _nd_backend
from tests.gallery.twins.torch_op_below_stride import conv_transpose2d as conv_transpose_op_below_stride
from tests.gallery.twins.torch_pad_first_axis_first import pad as pad_first_axis_first
from tests.gallery.twins.torch_pad_reflect_never_raises import pad as pad_reflect_never_raises
from tests.twins.claim_checks import reaches as _reaches
from tests.twins.claim_checks import stage as _stage

load_builtin()

HALF = (torch.float16, torch.bfloat16)

#: claim id -> the built-in backend it is audited on
AUDITED = {
    "ndimage-int-input-truncates-toward-zero": "scipy", "ndimage-int-input-keeps-fractions": "scipy",
    "scipy-auto-convolve-float-integers-exact": "scipy", "scipy-auto-convolve-int64-exact-below-guard": "scipy",
    "scipy-auto-convolve-int-guard-picks-direct": "scipy", "torch-same-padding-rejects-stride": "torch",
    "tf-same-padding-by-explicit-pad": "torch", "torch-reflect-conv-module-is-pad-then-conv": "torch",
    "torch-conv-transpose-output-padding-rule": "torch", "torch-cpu-half-conv-rounds-once": "torch",
    "torch-cpu-half-conv-transpose-rounds-once": "torch", "torch-cpu-half-conv-transpose-sums-taps-in-half": "torch",
    "torch-cpu-half-gradients-round-once": "torch",
}
FOUND = {HOLDS: "holds", REFUTED: "refuted", CONDITIONAL: "conditional"}


def _library(claim_id):
    """The backend a claim is audited on; the test is skipped, with the reason, where the claim's measured
    condition is false on this machine (its verdict was measured elsewhere)."""
    be = backends.get(AUDITED[claim_id])
    ok, why = machine.condition_holds(claim_id, be)
    if not ok:
        pytest.skip(f"{claim_id}: {why}")
    return be


def _holds_on_library(claim_id, case):
    status, msg = run_once(REGISTRY[claim_id], _library(claim_id), case)
    assert status == "holds", msg


# -- wrong twins: each claim's is named in its declaration (tests/gallery/twins); here, the variants the stages use -----

def pad_extra_at_start(x, pad, mode="constant", value=0.0):
    """F.pad with each (before, after) pair swapped: the odd element of TF's SAME lands at the start."""
    return TF.pad(x, tuple(v for i in range(0, len(pad), 2) for v in (pad[i + 1], pad[i])), mode=mode, value=value)


def pad_reflect_is_symmetric(x, pad, mode="constant", value=None):
    """F.pad whose 'reflect' repeats the edge (numpy's 'symmetric', ndimage's 'reflect')."""
    if mode != "reflect":
        return TF.pad(x, pad, mode=mode) if value is None else TF.pad(x, pad, mode=mode, value=value)
    pairs = [tuple(pad[i:i + 2]) for i in range(0, len(pad), 2)][::-1]
    return torch.from_numpy(np.pad(x.numpy(), ((0, 0),) * (x.dim() - len(pairs)) + tuple(pairs), mode="symmetric"))


def conv_transpose_any_op(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Accepts every output_padding: the definition's extra rows at the end."""
    y = PF.ref.conv_transpose(x.numpy(), w.numpy(), stride=stride, padding=padding, output_padding=output_padding,
                              groups=groups, dilation=dilation)
    return torch.from_numpy(y)


def _channels_in_half(name):
    """F.<name> (a conv or transposed conv) that, in fp16/bf16, adds the input channels of each group one by
    one in the half format (each channel's sum over the taps in fp32, rounded)."""
    op = getattr(TF, name)
    transposed = "transpose" in name

    def f(x, w, b=None, **kw):
        if x.dtype not in HALF:
            return op(x, w, b, **kw)
        cg = x.shape[1] // kw.get("groups", 1)
        out = None
        for c in range(cg):
            wc = w[c::cg] if transposed else w[:, c:c + 1]
            part = op(x[:, c::cg].float(), wc.float(), None, **kw).to(x.dtype)
            out = part if out is None else (out.float() + part.float()).to(x.dtype)
        return out
    return f


def _fake_F(name, **over):
    return lambda: torch_with_F(name, **over)


TRANSPOSES = ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")

#: the pitfall claims (every claim of specs/libraries/pitfalls.py, and the half-gradients one)
PITFALLS = sorted(AUDITED)


# -- every verdict on the real library, every twin rejected ---------------------------------------------

def test_every_pitfall_claim_is_covered():
    ids = {c for c in REGISTRY if REGISTRY[c].check.__module__ == PF.__name__}
    assert ids == set(AUDITED) == {c for c in PITFALLS if REGISTRY[c].twin}


@pytest.mark.parametrize("claim_id", sorted(AUDITED))
def test_verdict_on_the_library(claim_id):
    c = REGISTRY[claim_id]
    out = run_claim(c, _library(claim_id), settings.default)
    assert out.ok and out.found == FOUND[c.expected], f"{claim_id}: found {out.found}: {out.message}"


@pytest.mark.parametrize("claim_id", PITFALLS)
def test_twin_is_rejected(claim_id):
    be = twin_backend(REGISTRY[claim_id].twin)
    out = run_claim(REGISTRY[claim_id], be, settings.default)
    assert not out.ok, f"{claim_id} did not reject {be.name}: found {out.found} over {out.examples} examples"


def test_conditional_half_transpose_rejects_channels_in_half_inside():
    be = _fake_F("transpose-channels-in-half", **{n: _channels_in_half(n) for n in TRANSPOSES})()
    out = run_claim(REGISTRY["torch-cpu-half-conv-transpose-rounds-once"], be, settings.default)
    assert out.found == "refuted" and "inside its condition" in out.message, out.message


# -- 1. ndimage -----------------------------------------------------------------------------------------

def _nd_case(a, k, dtype="i16"):
    a, k = np.array(a, dtype=np.float64), np.array(k, dtype=np.float64)
    return Case(SignalProblem(a=a.shape, k=k.shape, mode="same", regime="dya", extra=(f"input={dtype}",)), {"a": a, "k": k})


@pytest.mark.parametrize(("how", "a", "fragment"), [
    ("round", [[3.0]], "vs trunc"),             # 1.5: rounds to 2, truncates to 1
    ("floor", [[-3.0]], "vs trunc"),            # -1.5: floors to -2, truncates to -1
    ("promote", [[3.0]], "returned float64"),
])
def test_ndimage_truncation_stages(how, a, fragment):
    case = _nd_case(a, [[0.5]])
    _stage("ndimage-int-input-truncates-toward-zero", _nd_backend(how), case, fragment)
    _holds_on_library("ndimage-int-input-truncates-toward-zero", case)


@pytest.mark.parametrize("how", ["floor", "promote"])
def test_ndimage_truncation_rejects_other_conversions(how):
    out = run_claim(REGISTRY["ndimage-int-input-truncates-toward-zero"], _nd_backend(how), settings.default)
    assert out.found == "refuted", out.message


def test_ndimage_counterexample_is_minimal():
    out = run_claim(REGISTRY["ndimage-int-input-keeps-fractions"], _library("ndimage-int-input-keeps-fractions"),
                    settings.default)
    assert out.case.problem.a == (1, 1) and out.case.problem.k == (1, 1), out.case


# -- 2. signal.convolve(method='auto') ---------------------------------------------------------------------

@settings(max_examples=30, database=None, deadline=None)
@given(st.data())
def test_auto_cases_lie_where_they_claim(data):
    _library("scipy-auto-convolve-int-guard-picks-direct")          # scipy's cost model and guard, as measured
    fl = data.draw(PF.auto_float_cases())
    assert signal.choose_conv_method(fl.a, fl.k) == "fft"
    below = data.draw(PF.auto_int_cases(above_guard=False))
    assert PF._guard_bound(below.a, below.k) <= PF.INT_GUARD
    assert signal.choose_conv_method(below.a, below.k) == "fft"
    above = data.draw(PF.auto_int_cases(above_guard=True))
    assert PF._guard_bound(above.a, above.k) > PF.INT_GUARD
    assert signal.choose_conv_method(above.a, above.k) == "direct"
    assert PF.fft_favoured(above.a.shape, above.k.shape)
    assert int(above.a.max()) * int(above.k.max()) * min(above.a.size, above.k.size) < 2 ** 61


def test_all_m_arrays_at_the_guard_are_inexact():
    """The docstring's claim: constant arrays at the guard's edge already come back inexact."""
    n = 49
    m = math.isqrt(PF.INT_GUARD // n)
    a, k = np.full((7, 7), m, dtype=np.int64), np.full((7, 7), m, dtype=np.int64)
    case = Case(SignalProblem(a=(7, 7), k=(7, 7), mode="full", dtype="i64"), {"a": a, "k": k})
    cid = "scipy-auto-convolve-int64-exact-below-guard"
    status, msg = run_once(REGISTRY[cid], _library(cid), case)
    assert status == "mismatch", msg


# -- 3. strided 'same' ---------------------------------------------------------------------------------

def test_tf_same_total_matches_the_pr_52631_formula():
    for L in range(1, 20):
        for k in range(1, 6):
            for s in range(1, 5):
                for d in range(1, 4):
                    lo, hi = PF.tf_same_pads(L, k, s, d)
                    assert lo + hi == max(0, d * (k - 1) - (L - 1) % s) and hi - lo in (0, 1)


def _tf_case():
    p = Problem(spatial=(5, 4), kernel=(4, 1), stride=(2, 1), pads=(PF.tf_same_pads(5, 4, 2, 1), (0, 0)))
    assert p.pads == ((1, 2), (0, 0)) and p.out_spatial() == (3, 4)
    return Case(p, {"x": np.arange(20.0).reshape(p.x_shape) - 9, "w": np.array([1.0, -2.0, 3.0, 1.0]).reshape(p.w_shape)})


@pytest.mark.parametrize(("pad", "fragment"), [(pad_first_axis_first, "padded x to (5, 7)"),
                                               (pad_extra_at_start, "vs TF 'SAME'")])
def test_tf_same_stages(pad, fragment):
    _stage("tf-same-padding-by-explicit-pad", _fake_F("pad", pad=pad)(), _tf_case(), fragment)
    _holds_on_library("tf-same-padding-by-explicit-pad", _tf_case())


def test_same_stride_search_reaches_every_rank_strided_and_not():
    for r in (1, 2, 3):
        for strided in (False, True):
            _reaches(PF.strided_same_cases(), lambda c, r=r, s=strided: c.problem.rank == r and
                     (max(c.problem.stride) > 1) == s, f"rank {r}, strided={strided}")


# -- 4. reflect in the module path -------------------------------------------------------------------------

def _reflect_case(h, w, ph, pw):
    p = Problem(spatial=(h, w), kernel=(1, 2), pads=(ph, pw))
    return Case(p, {"x": np.arange(h * w, dtype=np.float64).reshape(p.x_shape) - 2, "w": np.array([[[[1.0, -3.0]]]])})


@pytest.mark.parametrize(("pad", "case", "fragment"), [
    (pad_reflect_never_raises, _reflect_case(2, 3, 2, 1), "accepted padding"),
    (pad_reflect_is_symmetric, _reflect_case(3, 4, 1, 2), "nn.Conv2d(padding_mode='reflect') vs F.pad"),
])
def test_reflect_stages(pad, case, fragment):
    _stage("torch-reflect-conv-module-is-pad-then-conv", _fake_F("pad", pad=pad)(), case, fragment)
    _holds_on_library("torch-reflect-conv-module-is-pad-then-conv", case)


def test_reflect_search_reaches_each_axis_too_large_alone():
    def big(c):
        return tuple(lo >= L for (lo, _), L in zip(c.problem.pads, c.problem.spatial))
    for want in ((True, False), (False, True), (False, False)):
        _reaches(PF.reflect_module_cases(), lambda c, want=want: big(c) == want and min(lo for lo, _ in c.problem.pads) > 0,
                 f"padding too large on (H, W) = {want}")


# -- 5. output_padding --------------------------------------------------------------------------------------

def _op_case(op):
    p = TransposeProblem(spatial=(3, 3), kernel=(2, 2), stride=(1, 2), dilation=(3, 1))
    return Case(p, {"x": np.arange(9.0).reshape(p.x_shape) - 4, "w": np.array([1.0, 2.0, -1.0, 3.0]).reshape(p.w_shape),
                    "op": np.array(op, dtype=np.float64)})


@pytest.mark.parametrize(("fn", "op", "fragment"), [
    (conv_transpose_op_below_stride, (2, 1), "raised although"),       # 2 >= stride 1, < dilation 3: torch accepts
    (conv_transpose_any_op, (3, 0), "was accepted although"),          # 3 >= max(1, 3): torch raises
])
def test_output_padding_stages(fn, op, fragment):
    _stage("torch-conv-transpose-output-padding-rule", _fake_F("op", conv_transpose2d=fn)(), _op_case(op), fragment)
    _holds_on_library("torch-conv-transpose-output-padding-rule", _op_case(op))


def test_output_padding_search_reaches_both_sides_of_the_rule():
    def classes(c):
        p, op = c.problem, [int(v) for v in c.op]
        return ([s <= o < d for o, s, d in zip(op, p.stride, p.dilation)],
                [o >= max(s, d) for o, s, d in zip(op, p.stride, p.dilation)])
    _reaches(PF.output_padding_cases(), lambda c: any(classes(c)[0]) and not any(classes(c)[1]),
             "an accepted output_padding >= stride (below the dilation)")
    _reaches(PF.output_padding_cases(), lambda c: any(classes(c)[1]), "an output_padding >= max(stride, dilation)")


# -- 6. fp16 / bf16 on the CPU --------------------------------------------------------------------------------

@settings(max_examples=60, database=None, deadline=None)
@given(st.data())
def test_half_data_sums_are_exact_in_fp32_and_finite_in_fp16(data):
    for transposed in (False, True):
        p = data.draw(PF.half_cases(transposed=transposed)).problem
        mx, mw = PF.HALF_DATA[p.dtype]
        terms = (p.c // p.g) * math.prod(p.kernel)
        assert terms <= PF.HALF_TERMS and mx * mw * terms <= 65504 < 2 ** 24


@settings(max_examples=60, database=None, deadline=None)
@given(st.data())
def test_half_transpose_domains_split_on_meeting_taps(data):
    def meet(p):
        return any(PF.taps_meet(L, k, s, d) for L, k, s, d in zip(p.spatial, p.kernel, p.stride, p.dilation))
    assert not meet(data.draw(PF.half_cases(transposed=True, taps="apart")).problem)
    assert meet(data.draw(PF.half_cases(transposed=True, taps="meet")).problem)


def test_taps_meet_by_hand():
    assert PF.taps_meet(2, 2, 1, 1) and not PF.taps_meet(1, 3, 1, 1) and not PF.taps_meet(4, 1, 1, 2)
    assert not PF.taps_meet(3, 3, 3, 1) and not PF.taps_meet(5, 3, 3, 2)      # s=3, d=2: 3i never equals 2u, 4
    assert PF.taps_meet(3, 3, 2, 1) and PF.taps_meet(3, 2, 2, 2)


def test_half_transpose_counterexample_needs_two_roundings():
    """Two channels, two taps meeting at output 1 in float16: tap 1 sums to -2443, which fp16 (spacing 2 there)
    rounds to -2444; adding tap 0's -1151 gives -3595, rounded again to -3596 -- the exact -3594 is a float16."""
    be = _library("torch-cpu-half-conv-transpose-rounds-once")       # torch's ATen kernels for float16
    p = TransposeProblem(c=2, spatial=(2,), kernel=(2,), dtype="f16")
    x, w = np.array([[[-40.0, -49.0], [-47.0, 29.0]]]), np.array([[[30.0, 27.0]], [[11.0, 29.0]]])
    case = Case(p, {"x": x.astype(np.float16), "w": w.astype(np.float16)})
    exact = PF._exact(case, True)
    assert exact.tolist() == [[[-1717.0, -3594.0, -482.0]]]
    y = TF.conv_transpose1d(torch.from_numpy(x).half(), torch.from_numpy(w).half()).double().numpy()
    assert y.tolist() == [[[-1717.0, -3596.0, -482.0]]]
    assert np.array_equal(y, PF.transpose_taps_in_half(case))
    status, _ = run_once(REGISTRY["torch-cpu-half-conv-transpose-rounds-once"], be, case)
    assert status == "mismatch"
