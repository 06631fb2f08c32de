"""Layouts (issue 10): the array maps of convspec.model.layout, the capability words layout / weight_layout, the
channels-last backends through Backend.call, and the layout claims against their wrong twins."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convspec.backends.base import Backend, Capabilities, load_impl
from convspec.backends.registry import get
from convspec.claims import REGISTRY, applicable, load_builtin, ranked
from convspec.drawing.strategies import conv_cases, transpose_cases
from convspec.errors import ContractViolation, ImplError
from convspec.model import layout
from convspec.model.case import Case
from convspec.model.ops import CONTRACT, LABELS, RANKS, op_kind, op_rank
from convspec.model.problem import Problem
from convspec.search.engine import run_claim
from convspec.truth import reference as ref
from convspec.truth.oracle import check_conv
from tests.conftest import gallery_path

load_builtin()

CAPS = {(a, w): Capabilities(layout=a, weight_layout=w) for a in layout.LAYOUTS for w in layout.WEIGHT_LAYOUTS}
FAMILY_OPS = [op for op in CONTRACT if op_kind(op) != "signal"]


def _arr(shape, seed=0):
    return np.random.default_rng(seed).integers(-9, 10, size=shape).astype(np.float64)


# -- the maps -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", FAMILY_OPS)
@pytest.mark.parametrize("caps", list(CAPS), ids=lambda k: "-".join(k))
def test_maps_round_trip_every_op_and_layout(op, caps):
    """Every array and shape argument of every conv-family op, in every (layout, weight_layout): to_layout
    moves each axis where the layout says, and from_layout / expected_in_layout invert / predict it."""
    c = CAPS[caps]
    r = op_rank(op)
    act, wt = (2, 3, *range(5, 5 + r)), (7, 11, *range(13, 13 + r))   # distinct extents: a wrong axis shows
    a, w, b = _arr(act), _arr(wt, 1), _arr((7,), 2)
    kind = op_kind(op)
    args = {"conv": (a, w, b), "transpose": (a, w, b), "input": (act, w, a), "weight": (a, wt, a)}[kind]
    out, kw = layout.to_layout(op, args, {"stride": (1,) * r, "padding": ((0, 1),) * r}, c)
    assert kw == {"stride": (1,) * r, "padding": ((0, 1),) * r}
    nhwc, hwio = caps[0] == "NHWC", caps[1] == "HWIO"
    a_ax = (0, *range(2, r + 2), 1) if nhwc else tuple(range(r + 2))
    w_ax = (*range(2, r + 2), 1, 0) if hwio else tuple(range(r + 2))
    for i, (given_, got) in enumerate(zip(args, out)):
        role = layout.ROLES[kind][i]
        if role in ("act", "weight"):
            want = np.transpose(given_, a_ax if role == "act" else w_ax)
            assert got.shape == want.shape and np.array_equal(got, want) and got.flags.c_contiguous
            assert not np.shares_memory(got, given_) or got is given_
        elif role in ("act_shape", "weight_shape"):
            assert got == tuple(given_[j] for j in (a_ax if role == "act_shape" else w_ax))
        else:
            assert got is given_                                    # the bias: never permuted
    y = _arr(wt if kind == "weight" else act, 3)                    # a result in the contract's order
    native = np.transpose(y, w_ax if kind == "weight" else a_ax)
    assert layout.expected_in_layout(op, y.shape, c) == native.shape
    assert np.array_equal(layout.to_layout_result(op, y, c), native)
    back = layout.from_layout(op, native, c)
    assert np.array_equal(back, y) and back.flags.c_contiguous and not np.shares_memory(back, native)


@given(st.sampled_from(FAMILY_OPS), st.sampled_from(list(CAPS)), st.data())
def test_maps_are_inverse_on_random_shapes(op, caps, data):
    c = CAPS[caps]
    r = op_rank(op)
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=r + 2, max_size=r + 2)))
    y = _arr(shape, data.draw(st.integers(0, 99)))
    native = layout.to_layout_result(op, y, c)
    assert native.shape == layout.expected_in_layout(op, shape, c)
    assert np.array_equal(layout.from_layout(op, native, c), y)


def test_named_permutations():
    """The documented meaning of each word, element by element."""
    x, w = _arr((2, 3, 4, 5)), _arr((6, 3, 2, 1), 1)
    (xn, wn, _), _ = layout.to_layout("conv2d", (x, w, None), {}, CAPS["NHWC", "HWIO"])
    assert xn.shape == (2, 4, 5, 3) and xn[1, 2, 3, 0] == x[1, 0, 2, 3]           # x_nhwc[n, h, w, c] = x[n, c, h, w]
    assert wn.shape == (2, 1, 3, 6) and wn[1, 0, 2, 5] == w[5, 2, 1, 0]           # w_hwio[u, v, i, o] = w[o, i, u, v]
    wt = _arr((4, 3, 2, 2), 2)                                                      # transposed: (C_in, C_out/G, k...)
    (_, wtn, _), _ = layout.to_layout("conv_transpose2d", (x, wt, None), {}, CAPS["NCHW", "HWIO"])
    assert wtn.shape == (2, 2, 3, 4) and wtn[1, 0, 2, 3] == wt[3, 2, 1, 0]        # (k..., C_out/G, C_in)
    (s, _, _), _ = layout.to_layout("conv3d_input", ((2, 3, 4, 5, 6), wt, x), {}, CAPS["NHWC", "OIHW"])
    assert s == (2, 4, 5, 6, 3)
    (_, s, _), _ = layout.to_layout("conv1d_weight", (x, (6, 3, 2), x), {}, CAPS["NCHW", "HWIO"])
    assert s == (2, 3, 6)
    a, k = x[0, 0], w[0, 0]
    (a2, k2), kw = layout.to_layout("convolve2d", (a, k), {"mode": "same"}, CAPS["NHWC", "HWIO"])
    assert a2 is a and k2 is k and kw == {"mode": "same"}
    assert layout.expected_in_layout("correlate2d", (3, 4), CAPS["NHWC", "HWIO"]) == (3, 4)
    (xk,), kw = layout.to_layout("conv2d", (x,), {"w": w}, CAPS["NHWC", "HWIO"])  # arrays by keyword too
    assert xk.shape == (2, 4, 5, 3) and kw["w"].shape == (2, 1, 3, 6)


def test_roles_cover_every_op():
    for op in CONTRACT:
        kind = op_kind(op)
        assert len(layout.ROLES[kind]) == (len(LABELS[op]) + (kind in ("input", "weight")) if kind != "signal" else 0)
        assert kind in layout.RESULT_ROLE
    assert not layout.permutes("conv2d", Capabilities())
    assert layout.permutes("conv2d", CAPS["NCHW", "HWIO"]) and not layout.permutes("convolve2d", CAPS["NHWC", "HWIO"])


# -- the capability words -------------------------------------------------------------------------------

def test_capabilities_validate_and_show_the_layouts():
    assert (Capabilities().layout, Capabilities().weight_layout) == ("NCHW", "OIHW")
    c = Capabilities.from_dict({"layout": "NHWC", "weight_layout": "HWIO"})
    assert (c.layout, c.weight_layout) == ("NHWC", "HWIO")
    assert "layout=NHWC weights=HWIO" in c.summary() and "layout=NCHW weights=OIHW" in Capabilities().summary()
    for alias, word in (("NWC", "NHWC"), ("NDHWC", "NHWC"), ("NCW", "NCHW"), ("NCDHW", "NCHW")):
        assert Capabilities.from_dict({"layout": alias}).layout == word
    assert Capabilities.from_dict({"weight_layout": "DHWIO"}).weight_layout == "HWIO"
    with pytest.raises(ImplError, match=r"--impl x.py: CAPABILITIES: layout must be 'NCHW' or 'NHWC'.*not 'nhwc'"):
        Capabilities.from_dict({"layout": "nhwc"}, source="--impl x.py: CAPABILITIES")
    with pytest.raises(ImplError, match=r"weight_layout must be 'OIHW' or 'HWIO'.*not 'IOHW'"):
        Capabilities.from_dict({"weight_layout": "IOHW"})
    with pytest.raises(ValueError, match=r"layout must be .* not 4"):
        Capabilities(layout=4)


def test_requires_words_pick_the_layout():
    cl, tr = REGISTRY["conv2d-nhwc-is-nchw-transposed"], REGISTRY["torch-channels-last-equals-contiguous"]
    assert {"nhwc", "direct"} <= cl.requires and "torch.F" in tr.needs
    ok, why = applicable(cl, get("numpy"))
    assert not ok and "declares layout NCHW" in why
    assert applicable(cl, get("numpy-nhwc"))[0] and applicable(cl, get("torch-channels-last"))[0]
    from convspec.claims import HOLDS, claim
    from convspec.errors import InvalidClaim
    c = claim(id="selftest-needs-nchw", statement="s", source="s", needs={"conv2d"}, expected=HOLDS,
              requires={"nchw"}, cases=st.none())(lambda be, case: None)
    REGISTRY.pop(c.id)
    assert applicable(c, get("numpy"))[0]
    ok, why = applicable(c, get("torch-channels-last"))
    assert not ok and "declares layout NHWC, weights OIHW" in why
    assert not applicable(c, Backend("hwio", {"conv2d": None}, CAPS["NCHW", "HWIO"]))[0]
    with pytest.raises(InvalidClaim):
        claim(id="selftest-bad", statement="s", source="s", needs={"conv2d"}, expected=HOLDS,
              requires={"channels_last"}, cases=st.none())


# -- Backend.call on channels-last implementations ---------------------------------------------------------

NHWC_BACKENDS = ["numpy-nhwc", "torch-channels-last"]


@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("name", NHWC_BACKENDS)
def test_nhwc_backends_equal_the_definition_through_call(name, rank):
    """Backend.call hands the channels-last backends channels-last arrays and brings back results that equal
    the integer definition exactly (every padding form, groups, bias)."""
    be = get(name)

    @settings(max_examples=40, deadline=None)
    @given(conv_cases(be.caps, rank=rank, regimes=("int",), asymmetric=None))
    def check(case):
        p = case.problem
        y = be.call(p.op, case)
        assert y.shape == p.y_shape and y.flags.c_contiguous
        assert np.array_equal(y, ref.direct(case.x, case.w, case.b, **p.kwargs()))
    check()


@pytest.mark.parametrize("rank", RANKS)
def test_numpy_nhwc_family_ops_equal_numpy(rank):
    """The transposed conv and both gradients, written channels last with HWIO weights, equal the channels-first
    numpy backend bit for bit on integers (Backend.call permutes input_shape / weight_shape / the result)."""
    nh, npb = get("numpy-nhwc"), get("numpy")

    @settings(max_examples=25, deadline=None)
    @given(transpose_cases(nh.caps, rank=rank, regimes=("int",), weight=True))
    def check(case):
        for op in (f"conv_transpose{rank}d", f"conv{rank}d_input", f"conv{rank}d_weight"):
            assert np.array_equal(nh.call(op, case), npb.call(op, case)), op
    check()


@pytest.mark.parametrize("claim_id", ["conv2d-matches-definition", "conv1d-matches-definition",
                                      "conv3d-matches-definition", "conv2d-accepts-every-call-form",
                                      "conv-transpose2d-matches-definition", "conv2d-input-matches-definition",
                                      "conv2d-weight-matches-definition", "conv-transpose2d-is-adjoint-of-conv2d"])
def test_definition_claims_hold_on_numpy_nhwc(claim_id):
    if claim_id not in REGISTRY:
        pytest.skip(f"{claim_id} is not registered in this version")
    o = run_claim(REGISTRY[claim_id], get("numpy-nhwc"), settings.default)
    assert o.ok, o.message


def test_guard_messages_name_the_layout():
    """A channels-last implementation returning the channels-first shape: the guard expects the channels-last
    shape and says which layouts it assumed."""
    nh = get("numpy-nhwc")

    def returns_nchw(x, w, b=None, **kw):
        return np.moveaxis(nh.op("conv2d")(x, w, b, **kw), -1, 1).copy()
    be = Backend("returns-nchw", {"conv2d": returns_nchw}, nh.caps)
    p = Problem.parse("n1c2h3w4_o5k1")
    case = Case.seeded(p, 1)
    with pytest.raises(ContractViolation, match=r"returned shape \(1, 5, 3, 4\), expected \(1, 3, 4, 5\) .*"
                                                r"\(layout NHWC, weights HWIO\)$"):
        be.call("conv2d", case)
    assert nh.call("conv2d", case).shape == (1, 5, 3, 4)


def test_torch_channels_last_runs_in_channels_last_format(monkeypatch):
    """The adapter hands torch tensors stored channels_last (channels_last_3d), and torch answers in that
    format (conv2d: whenever channels and spatial extents exceed 1)."""
    import torch

    from convspec.backends import torch_backend as tb
    seen = []

    def spy(fn, fmt):
        def conv(x, w, b, **kw):
            y = fn(x, w, b, **kw)
            seen.append((x.is_contiguous(memory_format=fmt), w.is_contiguous(memory_format=fmt),
                         y.is_contiguous(memory_format=fmt), b))
            return y
        return conv
    monkeypatch.setitem(tb._FN, 2, spy(tb._FN[2], torch.channels_last))
    monkeypatch.setitem(tb._FN, 3, spy(tb._FN[3], torch.channels_last_3d))
    be = get("torch-channels-last")
    for text in ("n2c3h5w6_o4k3x2_s1x2_p1_bias_f32", "n1c3w9_o2k3_p1-2_f64", "n1c2d3h4w5_o3k2_g1_bias_f32"):
        case = Case.seeded(Problem.parse(text), 0)
        y = be.call(case.problem.op, case)
        check_conv(be, case, y, case.problem.op)       # within the error model's bound (raises Mismatch if not)
    assert [s[:2] for s in seen] == [(True, True)] * 3                 # every input channels last
    assert seen[0][2] and seen[1][2]                                      # conv2d (and conv1d as H = 1) answered so
    assert all(s[3] is None for s in seen)                                # the bias is added afterwards


def test_torch_channels_last_survives_the_onednn_bias_crash():
    """F.conv2d with a bias on channels-last float32 tensors segfaults when an output sees only padding
    (pytorch/pytorch#195394); the adapter adds its bias after the conv.  In a child process: a regression must
    not take the test run down."""
    code = ("from convspec.backends.registry import get; from convspec.model.case import Case; "
            "from convspec.model.problem import Problem; "
            "from convspec.truth.oracle import check_conv; "
            "case = Case.seeded(Problem.parse('n1c4h1w1_o4k2x1_s1x2_p1_d1x2_g2_bias_f32_flt'), 3); "
            "be = get('torch-channels-last'); check_conv(be, case, be.call('conv2d', case)); print(True)")
    from tests.gallery.test_gallery import ROOT
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "True", (r.returncode, r.stdout, r.stderr[-2000:])


def test_isolated_worker_carries_the_layouts():
    """The worker's hello frame carries the capabilities: the parent's Backend.call permutes."""
    from convspec.isolation.loader import load
    be = load(gallery_path("correct_nhwc"), isolation="process")
    try:
        assert (be.caps.layout, be.caps.weight_layout) == ("NHWC", "HWIO")
        case = Case.seeded(Problem.parse("n2c3h4w5_o4k3x2_p1-0x2_g1_bias"), 0)
        y = be.call("conv2d", case)
        assert np.array_equal(y, ref.direct(case.x, case.w, case.b, **case.problem.kwargs()))
    finally:
        be.close()


# -- the layout claims and their wrong twins -------------------------------------------------------------

@pytest.mark.parametrize("rank", RANKS)
def test_misread_channel_axis_is_rejected(rank):
    be = load_impl(gallery_path("nhwc_channel_axis_misread"))
    o = run_claim(REGISTRY[ranked("conv2d-nhwc-is-nchw-transposed", rank)], be, settings.default)
    assert not o.ok and "(layout NHWC, weights OIHW) vs the channels-first definition transposed" in o.message


@pytest.mark.parametrize("rank", RANKS)
def test_correct_nhwc_passes_the_layout_claim(rank):
    be = load_impl(gallery_path("correct_nhwc"))
    for cid in (ranked("conv2d-nhwc-is-nchw-transposed", rank), ranked("conv2d-matches-definition", rank)):
        o = run_claim(REGISTRY[cid], be, settings.default)
        assert o.ok, o.message


@pytest.mark.parametrize("name", NHWC_BACKENDS)
def test_nhwc_adapters_accept_every_form_bitwise(name):
    """Channels-last arrays in every memory layout and argument form of convspec.model.forms give the same bits."""
    import itertools

    from convspec.model.forms import ARG_FORMS, LAYOUTS, CallForm, apply
    be = get(name)
    for dt in ("f64", "f32"):
        p = Problem.parse(f"n2c4h9w8_o4k3x2_s2x2_p1x1_d2x2_g2_bias_{dt}_flt")
        c = Case.seeded(p, 3)
        args, kw = layout.to_layout("conv2d", (c.x, c.w, c.b), p.kwargs(), be.caps)
        f = be.op("conv2d")
        want = f(*args, **kw)
        for lay, af, ro in itertools.product(LAYOUTS, ARG_FORMS, (False, True)):
            form = CallForm(stride=af, padding=af, dilation=af, layouts=(("x", lay), ("w", lay), ("b", lay)),
                            readonly=ro)
            a2, kw2 = apply(form, "conv2d", args, kw)
            y = f(*a2, **kw2)
            assert np.ascontiguousarray(y).tobytes() == np.ascontiguousarray(want).tobytes(), (dt, str(form))


@pytest.mark.parametrize("name", NHWC_BACKENDS)
def test_nhwc_backends_stay_within_the_bound_on_adversarial_data(name):
    from convspec.drawing import adversarial as adv
    from convspec.truth.oracle import conv_expect
    from convspec.truth.tolerance import compare
    be = get(name)
    for label, case in adv.families():
        c = compare(be.call("conv2d", case), *conv_expect(be, case))
        assert c.ratio <= 1.0, f"{label}: {c.describe()}"
