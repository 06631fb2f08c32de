"""Claims about the conv family beyond the forward conv2d (issue 10): the transposed conv and the
gradients of conv2d, each against its definition (:mod:`convspec.truth.reference`) within the error model
(:mod:`convspec.truth.tolerance`), and the identities that tie them together and need no trusted implementation:

* conv_transpose2d is the adjoint of conv2d: <conv2d(a), x> == <a, conv_transpose2d(x)> for every stride,
  dilation and output_padding (an output_padding at or above the stride adds rows that conv2d sees and
  the pairing drops: the identity pairs x with the first H x W outputs of conv2d(a));
* conv_transpose2d is the input gradient (conv2d_input) of the conv2d it transposes;
* the weight gradient is the correlation of the input with grad_out: bit-exact against the integer
  definition and against central finite differences of L(w) = <conv2d(a, w), grad_out> in float64
  (L is linear in w, so a step of 1 on integer data is exact);
* the bias gradient is the sum of grad_out over the batch and spatial axes (torch autograd).

Sources: torch.nn.functional.conv_transpose2d / torch.nn.grad docs (the contract follows their
semantics and weight layout); Dumoulin & Visin, "A guide to convolution arithmetic for deep learning"
(arXiv:1603.07285), section 4 (transposed convolution as the adjoint / gradient of convolution).
"""

from __future__ import annotations

import numpy as np

from convspec.claims import HOLDS, claim, ranked
from convspec.drawing import strategies as S
from convspec.errors import Mismatch
from convspec.model.case import Case
from convspec.model.ops import RANKS, family_op
from convspec.model.problem import TransposeProblem
from convspec.truth import reference as ref
from convspec.truth.check import close, equal, holds
from convspec.truth.oracle import check_conv, check_family, conv_of, family_expect_acc

CONTRACT_SRC = "contract (README); issue 10; torch.nn.functional.conv_transpose2d and torch.nn.grad docs"
ARITH_SRC = "Dumoulin & Visin, A guide to convolution arithmetic (arXiv:1603.07285), sec. 4; issue 10"
FAMILY_DTYPES = ("f64", "f32", "f16", "bf16")


def _exact_ints(a, what):
    """The values of ``a`` as Python ints (object array); a Mismatch if one is not an integer (on integer
    data every correct result is, see the exact regime of :mod:`convspec.truth.tolerance`)."""
    a = np.asarray(a, dtype=np.float64)
    bad = ~np.isfinite(a) | (a != np.round(np.where(np.isfinite(a), a, 0)))
    if np.any(bad):
        i = tuple(int(t) for t in np.argwhere(bad)[0])
        raise Mismatch(f"{what} is not integer-valued on integer data: {a[i]!r} at {list(i)}", sides={what: a})
    return np.vectorize(int, otypes=[object])(a) if a.size else a.astype(object)


def _dot(a, b) -> int:
    return int(np.sum(np.asarray(a, dtype=object) * np.asarray(b, dtype=object))) if np.size(a) else 0


# -- each op against its definition -------------------------------------------------------------------
def _family_matches(kind):
    def check(be, case):
        op = family_op(kind, case.problem.rank)
        check_family(be, op, case, be.call(op, case))
    return check


def _small(rank):
    """Family cases stay smaller in 3-D (three extents multiply)."""
    return 1.0 if rank == 2 else 0.5


def _output_padding_case(rank: int) -> Case:
    """Stride 2, kernel 2, output_padding 1 on every axis (a gradient problem: below the stride), seeded integers:
    the smallest case where the row that output_padding adds has a side, pinned so that every seed meets it."""
    p = TransposeProblem(n=1, c=1, o=1, spatial=(2,) * rank, kernel=(2,) * rank, stride=(2,) * rank,
                         pads=((0, 0),) * rank, dilation=(1,) * rank, g=1, bias=False, dtype="f64", regime="int",
                         out_pad=(1,) * rank)
    return Case.seeded(p, 1)


for _r in RANKS:
    _t, _i, _w, _c = (family_op(k, _r) for k in ("transpose", "input", "weight", "conv"))
    claim(id=ranked("conv-transpose2d-matches-definition", _r),
          twin="transpose_forgets_flip" if _r == 2 else "numpy_transpose_forgets_flip",
          group="seed", source=CONTRACT_SRC, needs={_t},
          expected=HOLDS, budget=_small(_r),
          statement=f"{_t} scatters every input element through the kernel (torch's semantics and weight layout) for "
                    "every stride, padding, output_padding, dilation, groups, bias and dtype, within the error model",
          cases=S.transpose(dtypes=FAMILY_DTYPES, rank=_r))(_family_matches("transpose"))
    claim(id=ranked("conv2d-input-matches-definition", _r), twin="numpy_input_grad_forgets_flip",
          group="seed", source=CONTRACT_SRC, needs={_i},
          expected=HOLDS, budget=_small(_r),
          statement=f"{_i}(input_shape, w, grad_out) is the gradient of <{_c}(x, w), grad_out> with respect to x, "
                    "within the error model",
          cases=S.transpose(dtypes=FAMILY_DTYPES, gradient=True, rank=_r))(_family_matches("input"))
    claim(id=ranked("conv2d-weight-matches-definition", _r),
          twin="weight_grad_batch_not_summed" if _r == 2 else "numpy_weight_batch_not_summed",
          group="seed", source=CONTRACT_SRC, needs={_w},
          expected=HOLDS, budget=_small(_r),
          statement=f"{_w}(x, weight_shape, grad_out) is the gradient of <{_c}(x, w), grad_out> with respect to w, "
                    "summed over the batch, within the error model",
          cases=S.transpose(dtypes=FAMILY_DTYPES, weight=True, rank=_r))(_family_matches("weight"))


# -- identities ----------------------------------------------------------------------------------------
def _adjoint(be, case):
    p = case.problem
    fp = p.forward()
    t, c = family_op("transpose", p.rank), family_op("conv", p.rank)
    ct = be.call(t, case)
    y = be.call(c, case, args=(case.xf, case.w, None), kwargs=fp.kwargs(), expect=(fp.y_shape, np.asarray(case.xf).dtype))
    holds(all(a >= b for a, b in zip(y.shape[2:], p.spatial)), f"{c} of the transposed conv's output size gave "
          f"{y.shape}, fewer than {p.spatial} outputs")
    crop = (slice(None), slice(None)) + tuple(slice(0, L) for L in p.spatial)
    lhs = _dot(_exact_ints(y[crop], f"{be.name}.{c}(a)"), _exact_ints(case.x, "x"))
    rhs = _dot(_exact_ints(case.xf, "a"), _exact_ints(ct, f"{be.name}.{t}(x)"))
    if lhs != rhs:
        raise Mismatch(f"{be.name}: <{c}(a), x> = {lhs} but <a, {t}(x)> = {rhs} on {p} "
                       f"(output_padding {'x'.join(map(str, p.out_pad))})",
                       sides={"a": case.xf, "w": case.w, "x": case.x, f"{c}(a)": y, f"{t}(x)": ct})


def _transpose_is_input_grad(be, case):
    p = case.problem
    t, i = family_op("transpose", p.rank), family_op("input", p.rank)
    ct = be.call(t, case)
    gi = be.call(i, case)
    _, a1 = family_expect_acc(be.accumulation(p.dtype, t), t, case)
    _, a2 = family_expect_acc(be.accumulation(p.dtype, i), i, case)
    close(ct, gi, a1 + a2, f"{be.name}: {t}(grad_out, w) vs {i}(input_shape, w, grad_out)",
          sides={"w": case.w, "grad_out": case.x, t: ct, i: gi})


for _r in RANKS:
    _t, _i, _w, _c = (family_op(k, _r) for k in ("transpose", "input", "weight", "conv"))
    claim(id=ranked("conv-transpose2d-is-adjoint-of-conv2d", _r),
          twin="transpose_forgets_flip" if _r == 2 else "numpy_transpose_forgets_flip",
          group="seed", source=ARITH_SRC,
          needs={_c, _t}, expected=HOLDS, budget=_small(_r),
          statement=f"<{_c}(a, w), x> == <a, {_t}(x, w)> exactly on integers, for every stride, dilation and "
                    "output_padding (below max(stride, dilation)); the conv's outputs past the input size, which an "
                    "output_padding at or above the stride adds, are not paired",
          cases=S.transpose(dtypes=FAMILY_DTYPES, regimes=("int",), bias=False, forward=True, rank=_r))(_adjoint)
    claim(id=ranked("conv-transpose2d-is-conv2d-input", _r),
          twin="transpose_output_padding_wrong_side" if _r == 2 else "numpy_transpose_op_wrong_side",
          group="seed", source=ARITH_SRC, needs={_t, _i},
          expected=HOLDS, budget=0.5 if _r == 2 else 0.25,
          statement=f"{_t}(grad_out, w) with the output_padding that restores the input size equals "
                    f"{_i}(input_shape, w, grad_out) (bit for bit on integers, within both bounds otherwise)",
          cases=S.transpose(dtypes=FAMILY_DTYPES, regimes=("int", "flt"), gradient=True, rank=_r),
          examples=(_output_padding_case(_r),))(_transpose_is_input_grad)


def _finite_differences(a, w_shape, gy, kw):
    """Central differences of L(w) = <conv(a, w), gy> (float64, the im2col reference) at w = 0 with
    step 1: exact on integer data, since L is linear in w."""
    fd = np.zeros(w_shape)
    base = np.zeros(w_shape)
    for idx in np.ndindex(*w_shape):
        e = base.copy()
        e[idx] = 1.0
        fd[idx] = (np.sum(ref.im2col(a, e, **kw) * gy) - np.sum(ref.im2col(a, -e, **kw) * gy)) / 2
    return fd


def _weight_is_correlation(be, case):
    p = case.problem
    op = family_op("weight", p.rank)
    gw = be.call(op, case)
    exact = ref.conv_weight(case.xf, p.w_shape, case.x, exact=True, **p.grad_kwargs())
    got = _exact_ints(gw, f"{be.name}.{op}")
    if not np.array_equal(got, exact):
        i = tuple(int(t) for t in np.argwhere(got != exact)[0])
        raise Mismatch(f"{be.name}.{op} differs from the integer definition at {list(i)}: {got[i]} vs "
                       f"{exact[i]} on {p}", sides={"x": case.xf, "grad_out": case.x, "observed": gw,
                                                   "definition": exact.astype(np.float64)})
    fd = _finite_differences(np.asarray(case.xf, dtype=np.float64), p.w_shape, np.asarray(case.x, dtype=np.float64),
                             p.grad_kwargs())
    equal(np.asarray(gw, dtype=np.float64), fd, f"{be.name}.{op} vs central finite differences",
          sides={"x": case.xf, "grad_out": case.x, op: gw, "finite differences": fd})


def _bias_grad(be, case):
    import torch  # lazy: torch is an optional extra (about 3 s to import); only torch backends reach this
    F = be.op("torch.F")
    p = case.problem
    fp = p.forward()
    fn = getattr(F, family_op("conv", p.rank))
    a = torch.from_numpy(np.ascontiguousarray(case.xf, dtype=np.float64))
    w = torch.from_numpy(np.ascontiguousarray(case.w, dtype=np.float64))
    b = torch.zeros(fp.o, dtype=torch.float64, requires_grad=True)
    fn(a, w, b, **fp.kwargs()).backward(torch.from_numpy(np.ascontiguousarray(case.x, dtype=np.float64)))
    want = ref.bias_grad(case.x)
    equal(b.grad.numpy(), want, f"d<{fn.__name__}(x, w, b), grad_out>/db vs sum of grad_out over (N, spatial)",
          sides={"grad_out": case.x, "autograd": b.grad.numpy(), "sum": want})


for _r in RANKS:
    _w, _c = family_op("weight", _r), family_op("conv", _r)
    claim(id=ranked("conv2d-weight-is-correlation-of-input-and-grad", _r),
          twin="weight_grad_batch_not_summed" if _r == 2 else "numpy_weight_batch_not_summed",
          group="seed", source=ARITH_SRC,
          needs={_w}, expected=HOLDS, budget=0.5 if _r == 2 else 0.25,
          statement="The weight gradient is the correlation of the input with grad_out summed over the batch: bit for "
                    f"bit against the integer definition and against float64 central finite differences of "
                    f"<{_c}(x, w), grad_out>",
          cases=S.transpose(dtypes=FAMILY_DTYPES, regimes=("int",), weight=True, rank=_r))(_weight_is_correlation)
    claim(id=ranked("conv2d-bias-grad-is-sum", _r), twin="torch_bias_reversed", group="torch",
          source=f"torch.nn.functional.{_c} autograd; issue 10", needs={"torch.F"}, expected=HOLDS,
          budget=0.25 if _r == 2 else 0.15,
          statement=f"The gradient of <{_c}(x, w, b), grad_out> with respect to b is grad_out summed over the batch "
                    "and spatial axes (bit for bit on integers)",
          cases=S.transpose(dtypes=("f64",), regimes=("int",), weight=True, rank=_r))(_bias_grad)


# -- padding strings, padding modes and padding pairs of the forward convs ---------------------------------
PAD_SRC = "torch.nn.Conv2d docs (padding='same', padding_mode); numpy.pad docs; issue 10"


def _padded_case(case, xp):
    """A conv case on the explicitly padded input xp with padding 0 (same dtype and regime)."""
    p = case.problem
    q = ref.problem_of(xp, case.w, case.b, stride=p.stride, padding=0, dilation=p.dilation,
                       groups=p.g).with_(dtype=p.dtype, regime=p.regime)
    return conv_of(xp, case.w, case.b, problem=q)


def _same_padding(be, case):
    p = case.problem
    kw = dict(stride=1, dilation=p.dilation, groups=p.g)
    y = be.call(p.op, case, args=(case.x, case.w, case.b), kwargs={**kw, "padding": "same"},
                expect=((p.n, p.o, *p.spatial), np.asarray(case.x).dtype))
    pads = ref.resolve_padding("same", p.kernel, p.dilation)
    check_conv(be, _padded_case(case, ref.pad_input(case.x, pads)), y,
               what=f"{p.op}(padding='same') vs the conv of x zero-padded by {pads}")
    if all(e <= L for e, L in zip(p.extent, p.spatial)):
        yv = be.call(p.op, case, args=(case.x, case.w, case.b), kwargs={**kw, "padding": "valid"},
                     expect=((p.n, p.o, *(L - e + 1 for L, e in zip(p.spatial, p.extent))), np.asarray(case.x).dtype))
        check_conv(be, _padded_case(case, case.x), yv, what=f"{p.op}(padding='valid') vs the unpadded conv")


def _padding_modes(be, case):
    p = case.problem
    for mode in [m for m in be.caps.padding_modes if m != "zeros"]:
        y = be.call(p.op, case, args=(case.x, case.w, case.b), kwargs={**p.kwargs(), "padding_mode": mode})
        xp = ref.pad_input(case.x, p.pads, mode)
        check_conv(be, _padded_case(case, xp), y,
                   what=f"{p.op}(padding_mode={mode!r}) vs np.pad(mode={ref.PADDING_MODES[mode]!r}) + {p.op}")


def _padding_pairs(be, case):
    p = case.problem
    y = be.call(p.op, case)
    check_conv(be, _padded_case(case, ref.pad_input(case.x, p.pads)), y,
               what=f"{p.op}(padding={p.padding_arg()}) vs np.pad by those (before, after) pairs + an unpadded {p.op}")


for _r in RANKS:
    _c = family_op("conv", _r)
    claim(id=ranked("conv2d-same-padding-keeps-size", _r), twin="same_extra_at_start" if _r == 2 else "numpy_same_extra_at_start",
          group="seed", source=PAD_SRC, needs={_c}, expected=HOLDS,
          requires={"padding_strings"}, budget=0.5 if _r == 2 else 0.3,
          statement="padding='same' at stride 1 keeps the spatial size for every kernel parity and dilation, padding "
                    "d(k-1)//2 before and the rest after (the extra element of an even kernel at the end); 'valid' is "
                    "no padding; both within the error model of the explicitly padded conv",
          cases=lambda be, _r=_r: S.same_padding_cases(be.caps, rank=_r))(_same_padding)
    claim(id=ranked("conv2d-padding-mode-is-np-pad", _r),
          twin="reflect_as_symmetric" if _r == 2 else "numpy_reflect_as_symmetric",
          group="seed", source=PAD_SRC, needs={_c}, expected=HOLDS,
          requires={"padding_modes"}, budget=0.5 if _r == 2 else 0.3,
          statement=f"{_c} with padding_mode reflect / replicate / circular equals np.pad with mode reflect / edge / "
                    "wrap followed by a conv without padding, within the error model",
          cases=lambda be, _r=_r: S.padding_mode_cases(be.caps, rank=_r))(_padding_modes)
    claim(id=ranked("conv2d-padding-pairs-are-np-pad", _r), twin="numpy_pairs_swapped", group="seed", source=PAD_SRC, needs={_c},
          expected=HOLDS, requires={"padding_pairs"}, budget=0.5 if _r == 2 else 0.3,
          statement=f"{_c} with explicit (before, after) padding pairs per axis, asymmetric allowed, equals np.pad by "
                    "those pairs followed by a conv without padding, within the error model",
          cases=S.conv(rank=_r, asymmetric=True, max_class=2))(_padding_pairs)


# -- conv1d and conv3d: the same layer in another rank ------------------------------------------------------
RANK_SRC = "torch.nn.functional.conv1d/conv3d docs; issue 10"


def _plain(case):
    """The case without its call form: convspec.model.forms rewrites stride/padding/dilation as pairs, which is the
    2-D contract's argument form, not conv1d's 1-tuples or conv3d's triples."""
    return Case(case.problem, case.arrays, case.seed)


@claim(id="conv1d-is-conv2d-with-height-1", twin="numpy_conv1d_ignores_dilation",
       group="seed", source=RANK_SRC, needs={"conv1d", "conv2d"},
       expected=HOLDS, budget=0.5,
       statement="conv1d(x, w) equals conv2d on the same data with a height of 1 (a 1 x k kernel, stride, padding "
                 "and dilation 1 on the height), bit for bit on integers, and matches the definition",
       cases=lambda be: S.conv_cases(be.caps, h=1, kh=1, sh=1, ph=0, dh=1, regimes=("int",)))
def _(be, case):
    p = case.problem
    x1, w1 = np.ascontiguousarray(case.x[:, :, 0]), np.ascontiguousarray(case.w[:, :, 0])
    y1 = be.call("conv1d", _plain(case), args=(x1, w1, case.b), kwargs=dict(stride=p.stride[-1:],
                                                                      padding=p.padding_arg()[-1:],
                                                                      dilation=p.dilation[-1:], groups=p.g),
                 expect=((p.n, p.o, p.out_spatial()[-1]), np.asarray(case.x).dtype))
    check_conv(be, case, y1[:, :, None], what="conv1d (as conv2d with H = 1) vs the definition")
    y2 = be.call("conv2d", case)
    equal(y1, y2[:, :, 0], f"{be.name}: conv1d(x, w) vs conv2d(x[:, :, None], w[:, :, None])[:, :, 0]",
          sides={"x": x1, "w": w1, "conv1d": y1, "conv2d": y2[:, :, 0]})


@claim(id="conv2d-is-conv3d-with-depth-1", twin="numpy_conv3d_strides_swapped",
       group="seed", source=RANK_SRC, needs={"conv2d", "conv3d"},
       expected=HOLDS, budget=0.5,
       statement="conv2d(x, w) equals conv3d on the same data with a depth of 1 (kernel depth 1, depth stride, "
                 "padding and dilation 1 / 0 / 1), bit for bit on integers",
       cases=lambda be: S.conv_cases(be.caps, regimes=("int",), max_class=2))
def _(be, case):
    p = case.problem
    x3, w3 = np.ascontiguousarray(case.x[:, :, None]), np.ascontiguousarray(case.w[:, :, None])
    y3 = be.call("conv3d", _plain(case), args=(x3, w3, case.b), kwargs=dict(stride=(1, *p.stride),
                                                                      padding=(0, *p.padding_arg()),
                                                                      dilation=(1, *p.dilation), groups=p.g),
                 expect=((p.n, p.o, 1, *p.out_spatial()), np.asarray(case.x).dtype))
    check_conv(be, case, y3[:, :, 0], what="conv3d (with D = 1) vs the definition")
    y2 = be.call("conv2d", case)
    equal(y3[:, :, 0], y2, f"{be.name}: conv3d(x[:, :, None], w[:, :, None])[:, :, 0] vs conv2d(x, w)",
          sides={"x": case.x, "w": case.w, "conv3d": y3[:, :, 0], "conv2d": y2})
