"""The conv family beyond the forward conv2d (issue 10): the transposed-conv problem model, the
definition-based references (against torch and in exact integers), the contract guard on the new
ops, and the oracle's error model for them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from convspec.backends.base import Backend, Capabilities
from convspec.backends.registry import get
from convspec.drawing.strategies import transpose_cases, transpose_problems
from convspec.errors import ContractViolation, DescriptorError, Mismatch
from convspec.model.case import Case
from convspec.model.contract import CONTRACT, FAMILY, op_kind, op_rank
from convspec.model.problem import Problem, TransposeProblem, parse_any, transpose_out
from convspec.truth import reference as ref
from convspec.truth.oracle import check_family, family_expect_acc
from convspec.truth.tolerance import ACCUMULATIONS

CAPS = Capabilities(dtypes=("f64", "f32"))


@given(transpose_problems(CAPS))
def test_transpose_descriptor_round_trips(p):
    assert TransposeProblem.parse(str(p)) == p
    assert parse_any(str(p)) == p
    assert str(p).startswith("tn") and "_op" in str(p)


def test_transpose_descriptor_fields():
    p = TransposeProblem.parse("tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2")
    assert (p.n, p.c, p.spatial, p.o, p.kernel, p.stride, p.pads, p.out_pad, p.dilation, p.g) == \
        (2, 4, (3, 3), 6, (3, 2), (2, 1), ((1, 1), (0, 0)), (1, 0), (1, 2), 2)
    assert str(p) == "tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2_nobias_f64_int"
    assert p.w_shape == (4, 3, 3, 2)                     # torch's layout (C_in, C_out/G, kH, kW)
    assert p.y_shape == (2, 6, 2 * 2 - 2 + 2 + 1 + 1, 2 * 1 + 2 * 1 + 1)   # (H-1)s - 2p + d(k-1) + op + 1
    assert p.forward() == Problem.parse("n2c6h6w5_o4k3x2_s2x1_p1x0_d1x2_g2")
    assert p.forward().y_shape == (2, 4, 3, 3)           # the conv it transposes gives back H x W
    assert Problem.parse(str(p.forward())) == p.forward()


@pytest.mark.parametrize("text, why", [
    ("tn1c1h3w3_o1k3_s1_op1", "output_padding"),          # op must be < max(stride, dilation)
    ("tn1c2h3w3_o3k3_g2", "groups"),
    ("tn1c1h1w1_o1k1_p1", "output would be"),
])
def test_invalid_transpose_problems(text, why):
    with pytest.raises(DescriptorError, match=why):
        TransposeProblem.parse(text)


def test_output_padding_below_dilation_is_valid_but_not_a_gradient():
    p = TransposeProblem.parse("tn1c1h3w3_o1k2_s1_op1x0_d2")
    assert p.out_pad == (1, 0) and not p.gradient_ok
    assert transpose_out(3, 2, 1, 0, 1, 2) == p.y_shape[2] == 6


@settings(max_examples=60, deadline=None)
@given(transpose_cases(CAPS, regimes=("int",), weight=True))
def test_references_match_torch_and_exact_integers(case):
    p = case.problem
    x, w, b, xf = (torch.from_numpy(np.asarray(a, dtype=np.float64)) if a is not None else None
                   for a in (case.x, case.w, case.b, case.xf))
    ct = F.conv_transpose2d(x, w, b, **p.kwargs()).numpy()
    assert np.array_equal(ref.conv_transpose2d(case.x, case.w, case.b, **p.kwargs()), ct)
    exact = ref.conv_transpose2d(case.x, case.w, case.b, exact=True, **p.kwargs())
    assert exact.dtype == object and np.array_equal(exact.astype(np.float64), ct)
    gi = torch.nn.grad.conv2d_input(p.y_shape, w, x, **p.grad_kwargs()).numpy()
    assert np.array_equal(ref.conv2d_input(p.y_shape, case.w, case.x, **p.grad_kwargs()), gi)
    gw = torch.nn.grad.conv2d_weight(xf, p.w_shape, x, **p.grad_kwargs()).numpy()
    assert np.array_equal(ref.conv2d_weight(case.xf, p.w_shape, case.x, **p.grad_kwargs()), gw)
    assert np.array_equal(ref.conv2d_weight(case.xf, p.w_shape, case.x, exact=True, **p.grad_kwargs()
                                            ).astype(np.float64), gw)
    assert np.array_equal(ref.bias_grad(case.x), np.asarray(case.x, dtype=np.float64).sum(axis=(0, 2, 3)))


def test_adjoint_of_the_reference_with_output_padding_at_or_above_the_stride():
    p = TransposeProblem.parse("tn1c2h3w4_o2k3x2_s1x2_p1x0_op2x1_d3x2")
    rng = np.random.default_rng(3)
    x = rng.integers(-4, 5, p.x_shape).astype(np.float64)
    w = rng.integers(-4, 5, p.w_shape).astype(np.float64)
    fp = p.forward()
    a = rng.integers(-4, 5, fp.x_shape).astype(np.float64)
    y = ref.direct(a, w, **fp.kwargs(), exact=True)
    h, w_ = p.spatial
    assert y.shape[2] > h                                # op >= stride: conv2d has more rows than x
    ct = ref.conv_transpose2d(x, w, **p.kwargs(), exact=True)
    assert np.sum(y[:, :, :h, :w_] * x.astype(int)) == np.sum(a.astype(int) * ct)


#: the rank-2 family ops; every rank: :data:`FAMILY` with :data:`RANK_CASES`
FAMILY2 = tuple(op for op in FAMILY if op_rank(op) == 2)
#: one integer family problem per rank (output_padding, stride, dilation, groups and bias each in use)
RANK_CASES = {1: "tn2c4w5_o6k3_s2_p1_op1_d2_g2_nobias_f32_int",
              2: "tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2_nobias_f32_int",
              3: "tn1c2d3h3w2_o4k2x2x1_s2x1x1_p1x0x0_op1x0x0_d1x1x2_g2_nobias_f32_int"}


def _case(text, seed=1):
    p = TransposeProblem.parse(text)
    c = Case.seeded(p, seed)
    rng = np.random.default_rng(seed)
    return Case(p, {**c.arrays, "xf": rng.integers(-4, 5, p.y_shape).astype(p.np_dtype)})


def test_contract_lists_the_family_ops():
    assert set(FAMILY) <= set(CONTRACT)


@pytest.mark.parametrize("op", FAMILY)
def test_guard_expects_the_family_shapes(op):
    case = _case(RANK_CASES[op_rank(op)])
    be = get("numpy")
    y = be.call(op, case)
    assert y.shape == (case.problem.w_shape if op_kind(op) == "weight" else case.problem.y_shape)
    assert y.dtype == np.float32

    def wrong_shape(*args, **kw):
        return np.zeros((1,), dtype=np.float32)
    bad = Backend("bad", {op: wrong_shape}, CAPS)
    with pytest.raises(ContractViolation, match="returned shape"):
        bad.call(op, case)

    def writes_input(*args, **kw):
        out = be.ops[op](*args, **kw)
        args[-1][...] = 0                                 # grad_out / b / x: the last array argument
        return out
    bad = Backend("bad", {op: writes_input}, CAPS)
    with pytest.raises(ContractViolation, match="wrote into its input"):
        bad.call(op, _case(RANK_CASES[op_rank(op)].replace("nobias", "bias")))


@pytest.mark.parametrize("name", ["numpy", "torch", "torch-autograd"])
@pytest.mark.parametrize("text", ["tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2_bias_f32_flt",
                                  "tn1c3h5w4_o2k2x3_s3x2_p2x1_op2x1_d1x1_g1_nobias_f64_flt",
                                  "tn2c2h4w4_o2k3x3_s2x2_p1x1_op1x1_d2x2_g2_nobias_f32_dya"])
def test_backends_within_the_error_model(name, text):
    """Every family op of the backend, in the rank of the descriptor and in its 1-D/3-D twin below."""
    be = get(name)
    case = _case(text)
    for op in FAMILY2:
        if op in be.ops and (op == "conv_transpose2d" or case.problem.gradient_ok):
            if op == "conv2d_weight" and case.problem.regime == "dya":
                continue
            check_family(be, op, case, be.call(op, case))


def test_error_model_is_exact_on_integers_and_positive_on_floats():
    case = _case("tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2_bias_f32_int")
    for op in FAMILY2:
        _, allowed = family_expect_acc(ACCUMULATIONS["f32"], op, case)
        assert not np.any(allowed), op                    # the exact regime: bit for bit
    p = TransposeProblem.parse("tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2_nobias_f32_flt")
    rng = np.random.default_rng(0)
    flt = Case(p, {"x": rng.standard_normal(p.x_shape).astype(np.float32),
                   "w": rng.standard_normal(p.w_shape).astype(np.float32),
                   "xf": rng.standard_normal(p.y_shape).astype(np.float32)})
    for op in FAMILY2:
        _, allowed = family_expect_acc(ACCUMULATIONS["f32"], op, flt)
        assert np.all(allowed > 0), op


def test_check_family_rejects_a_one_ulp_error_in_the_exact_regime():
    case = _case("tn1c2h3w3_o2k3x3_s2x2_p1x1_op1x1_nobias_f32_int")
    be = get("numpy")
    y = be.call("conv_transpose2d", case).copy()
    y[0, 0, 0, 0] = np.nextafter(y[0, 0, 0, 0], np.float32(np.inf))
    with pytest.raises(Mismatch, match="conv_transpose2d"):
        check_family(be, "conv_transpose2d", case, y)


@pytest.mark.parametrize("name", ["numpy", "torch", "torch-autograd"])
@pytest.mark.parametrize("rank", [1, 3])
@pytest.mark.parametrize("regime", ["int", "flt"])
def test_backends_within_the_error_model_in_every_rank(name, rank, regime):
    be = get(name)
    case = _case(RANK_CASES[rank].replace("_int", "_" + regime))
    ran = 0
    for op in FAMILY:
        if op_rank(op) == rank and op in be.ops:
            check_family(be, op, case, be.call(op, case))
            ran += 1
    assert ran


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_references_match_torch_in_every_rank(rank):
    case = _case(RANK_CASES[rank])
    p = case.problem
    t = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in case.arrays.items() if v is not None}
    fct = getattr(F, f"conv_transpose{rank}d")
    assert np.array_equal(ref.conv_transpose(case.x, case.w, **p.kwargs()), fct(t["x"], t["w"], **p.kwargs()).numpy())
    gi = getattr(torch.nn.grad, f"conv{rank}d_input")(p.y_shape, t["w"], t["x"], **p.grad_kwargs()).numpy()
    assert np.array_equal(ref.conv_input(p.y_shape, case.w, case.x, **p.grad_kwargs()), gi)
    gw = getattr(torch.nn.grad, f"conv{rank}d_weight")(t["xf"], p.w_shape, t["x"], **p.grad_kwargs()).numpy()
    assert np.array_equal(ref.conv_weight(case.xf, p.w_shape, case.x, exact=True, **p.grad_kwargs()).astype(float), gw)
    assert np.array_equal(ref.bias_grad(case.x), np.asarray(case.x, dtype=np.float64).sum(axis=(0, *range(2, 2 + rank))))
