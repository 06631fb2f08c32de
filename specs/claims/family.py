"""Claims about the conv family beyond the forward conv2d (issue 10): the transposed conv and the
gradients of conv2d, each against its definition (:mod:`specs.reference`) within the error model
(:mod:`specs.tolerance`), and the identities that tie them together and need no trusted implementation:

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

from .. import reference as ref
from .. import strategies as S
from ..check import Mismatch, close, equal, holds
from ..oracle import check_conv, check_family, conv_of, family_expect_acc
from . import HOLDS, REQUIRES, claim

CONTRACT_SRC = "contract (README); issue 10; torch.nn.functional.conv_transpose2d and torch.nn.grad docs"
ARITH_SRC = "Dumoulin & Visin, A guide to convolution arithmetic (arXiv:1603.07285), sec. 4; issue 10"
FAMILY_DTYPES = ("f64", "f32")


def _exact_ints(a, what):
    """The values of ``a`` as Python ints (object array); a Mismatch if one is not an integer (on integer
    data every correct result is, see the exact regime of :mod:`specs.tolerance`)."""
    a = np.asarray(a, dtype=np.float64)
    bad = ~np.isfinite(a) | (a != np.round(np.where(np.isfinite(a), a, 0)))
    if np.any(bad):
        i = tuple(int(t) for t in np.argwhere(bad)[0])
        raise Mismatch(f"{what} is not integer-valued on integer data: {a[i]!r} at {list(i)}", sides={what: a})
    return np.vectorize(int, otypes=[object])(a) if a.size else a.astype(object)


def _dot(a, b) -> int:
    return int(np.sum(np.asarray(a, dtype=object) * np.asarray(b, dtype=object))) if np.size(a) else 0


# -- each op against its definition -------------------------------------------------------------------
@claim(id="conv-transpose2d-matches-definition", group="seed", source=CONTRACT_SRC, needs={"conv_transpose2d"},
       expected=HOLDS, budget=1.0,
       statement="conv_transpose2d scatters every input element through the kernel (torch's semantics and weight "
                 "layout) for every stride, padding, output_padding, dilation, groups, bias and dtype, within the "
                 "error model",
       cases=S.transpose(dtypes=FAMILY_DTYPES))
def _(be, case):
    check_family(be, "conv_transpose2d", case, be.call("conv_transpose2d", case))


@claim(id="conv2d-input-matches-definition", group="seed", source=CONTRACT_SRC, needs={"conv2d_input"},
       expected=HOLDS, budget=1.0,
       statement="conv2d_input(input_shape, w, grad_out) is the gradient of <conv2d(x, w), grad_out> with respect "
                 "to x, within the error model",
       cases=S.transpose(dtypes=FAMILY_DTYPES, gradient=True))
def _(be, case):
    check_family(be, "conv2d_input", case, be.call("conv2d_input", case))


@claim(id="conv2d-weight-matches-definition", group="seed", source=CONTRACT_SRC, needs={"conv2d_weight"},
       expected=HOLDS, budget=1.0,
       statement="conv2d_weight(x, weight_shape, grad_out) is the gradient of <conv2d(x, w), grad_out> with "
                 "respect to w, summed over the batch, within the error model",
       cases=S.transpose(dtypes=FAMILY_DTYPES, weight=True))
def _(be, case):
    check_family(be, "conv2d_weight", case, be.call("conv2d_weight", case))


# -- identities ----------------------------------------------------------------------------------------
@claim(id="conv-transpose2d-is-adjoint-of-conv2d", group="seed", source=ARITH_SRC,
       needs={"conv2d", "conv_transpose2d"}, expected=HOLDS, budget=1.0,
       statement="<conv2d(a, w), x> == <a, conv_transpose2d(x, w)> exactly on integers, for every stride, "
                 "dilation and output_padding (below max(stride, dilation)); conv2d's rows past H x W, which an "
                 "output_padding at or above the stride adds, are not paired",
       cases=S.transpose(dtypes=FAMILY_DTYPES, regimes=("int",), bias=False, forward=True))
def _(be, case):
    p = case.problem
    fp = p.forward()
    ct = be.call("conv_transpose2d", case)
    y = be.call("conv2d", case, args=(case.xf, case.w, None), kwargs=fp.kwargs(),
                expect=(fp.y_shape, np.asarray(case.xf).dtype))
    holds(y.shape[2] >= p.h and y.shape[3] >= p.w, f"conv2d of the transposed conv's output size gave {y.shape}, "
          f"fewer than {p.h}x{p.w} outputs")
    lhs = _dot(_exact_ints(y[:, :, :p.h, :p.w], f"{be.name}.conv2d(a)"), _exact_ints(case.x, "x"))
    rhs = _dot(_exact_ints(case.xf, "a"), _exact_ints(ct, f"{be.name}.conv_transpose2d(x)"))
    if lhs != rhs:
        raise Mismatch(f"{be.name}: <conv2d(a), x> = {lhs} but <a, conv_transpose2d(x)> = {rhs} on {p} "
                       f"(output_padding {p.oph}x{p.opw})",
                       sides={"a": case.xf, "w": case.w, "x": case.x, "conv2d(a)": y, "conv_transpose2d(x)": ct})


@claim(id="conv-transpose2d-is-conv2d-input", group="seed", source=ARITH_SRC,
       needs={"conv_transpose2d", "conv2d_input"}, expected=HOLDS, budget=0.5,
       statement="conv_transpose2d(grad_out, w) with the output_padding that restores the input size equals "
                 "conv2d_input(input_shape, w, grad_out) (bit for bit on integers, within both bounds otherwise)",
       cases=S.transpose(dtypes=FAMILY_DTYPES, regimes=("int", "flt"), gradient=True))
def _(be, case):
    ct = be.call("conv_transpose2d", case)
    gi = be.call("conv2d_input", case)
    acc = be.accumulation(case.problem.dtype)
    _, a1 = family_expect_acc(acc, "conv_transpose2d", case)
    _, a2 = family_expect_acc(acc, "conv2d_input", case)
    close(ct, gi, a1 + a2, f"{be.name}: conv_transpose2d(grad_out, w) vs conv2d_input(input_shape, w, grad_out)",
          sides={"w": case.w, "grad_out": case.x, "conv_transpose2d": ct, "conv2d_input": gi})


def _finite_differences(a, w_shape, gy, kw):
    """Central differences of L(w) = <conv2d(a, w), gy> (float64, the im2col reference) at w = 0 with
    step 1: exact on integer data, since L is linear in w."""
    fd = np.zeros(w_shape)
    base = np.zeros(w_shape)
    for idx in np.ndindex(*w_shape):
        e = base.copy()
        e[idx] = 1.0
        fd[idx] = (np.sum(ref.im2col(a, e, **kw) * gy) - np.sum(ref.im2col(a, -e, **kw) * gy)) / 2
    return fd


@claim(id="conv2d-weight-is-correlation-of-input-and-grad", group="seed", source=ARITH_SRC,
       needs={"conv2d_weight"}, expected=HOLDS, budget=0.5,
       statement="The weight gradient is the correlation of the input with grad_out summed over the batch: bit for "
                 "bit against the integer definition and against float64 central finite differences of "
                 "<conv2d(x, w), grad_out>",
       cases=S.transpose(dtypes=FAMILY_DTYPES, regimes=("int",), weight=True))
def _(be, case):
    p = case.problem
    gw = be.call("conv2d_weight", case)
    exact = ref.conv2d_weight(case.xf, p.w_shape, case.x, exact=True, **p.grad_kwargs())
    got = _exact_ints(gw, f"{be.name}.conv2d_weight")
    if not np.array_equal(got, exact):
        i = tuple(int(t) for t in np.argwhere(got != exact)[0])
        raise Mismatch(f"{be.name}.conv2d_weight differs from the integer definition at {list(i)}: {got[i]} vs "
                       f"{exact[i]} on {p}", sides={"x": case.xf, "grad_out": case.x, "observed": gw,
                                                   "definition": exact.astype(np.float64)})
    fd = _finite_differences(np.asarray(case.xf, dtype=np.float64), p.w_shape, np.asarray(case.x, dtype=np.float64),
                             p.grad_kwargs())
    equal(np.asarray(gw, dtype=np.float64), fd, f"{be.name}.conv2d_weight vs central finite differences",
          sides={"x": case.xf, "grad_out": case.x, "conv2d_weight": gw, "finite differences": fd})


@claim(id="conv2d-bias-grad-is-sum", group="torch", source="torch.nn.functional.conv2d autograd; issue 10",
       needs={"torch.F"}, expected=HOLDS, budget=0.25,
       statement="The gradient of <conv2d(x, w, b), grad_out> with respect to b is grad_out summed over the batch "
                 "and spatial axes (bit for bit on integers)",
       cases=S.transpose(dtypes=("f64",), regimes=("int",), weight=True))
def _(be, case):
    import torch
    F = be.op("torch.F")
    p = case.problem
    fp = p.forward()
    a = torch.from_numpy(np.ascontiguousarray(case.xf, dtype=np.float64))
    w = torch.from_numpy(np.ascontiguousarray(case.w, dtype=np.float64))
    b = torch.zeros(fp.o, dtype=torch.float64, requires_grad=True)
    F.conv2d(a, w, b, **fp.kwargs()).backward(torch.from_numpy(np.ascontiguousarray(case.x, dtype=np.float64)))
    want = ref.bias_grad(case.x)
    equal(b.grad.numpy(), want, "d<conv2d(x, w, b), grad_out>/db vs sum of grad_out over (N, H, W)",
          sides={"grad_out": case.x, "autograd": b.grad.numpy(), "sum": want})


# -- padding strings and padding modes of conv2d ---------------------------------------------------------
# These claims ``require`` the capability words "padding_strings" / "padding_modes", which
# specs/claims/__init__.py (REQUIRES and applicable()) must know; until it does they are not registered.

PADDING_GATED = {"padding_strings", "padding_modes"} <= set(REQUIRES)
PAD_SRC = "torch.nn.Conv2d docs (padding='same', padding_mode); numpy.pad docs; issue 10"


def _padded_case(case, xp):
    """A conv case on the explicitly padded input xp with padding 0 (same dtype and regime)."""
    p = case.problem
    q = ref.problem_of(xp, case.w, case.b, stride=(p.sh, p.sw), padding=0, dilation=(p.dh, p.dw),
                       groups=p.g).with_(dtype=p.dtype, regime=p.regime)
    return conv_of(xp, case.w, case.b, problem=q)


if PADDING_GATED:
    @claim(id="conv2d-same-padding-keeps-size", group="seed", source=PAD_SRC, needs={"conv2d"}, expected=HOLDS,
           requires={"padding_strings"}, budget=0.5,
           statement="padding='same' at stride 1 keeps H x W for every kernel parity and dilation, padding d(k-1)//2 "
                     "before and the rest after (the extra element of an even kernel at the end); 'valid' is no "
                     "padding; both within the error model of the explicitly padded conv",
           cases=lambda be: S.same_padding_cases(be.caps))
    def _(be, case):
        p = case.problem
        kw = dict(stride=1, dilation=(p.dh, p.dw), groups=p.g)
        y = be.call("conv2d", case, args=(case.x, case.w, case.b), kwargs={**kw, "padding": "same"},
                    expect=((p.n, p.o, p.h, p.w), np.asarray(case.x).dtype))
        pads = ref.resolve_padding("same", (p.kh, p.kw), (p.dh, p.dw))
        check_conv(be, _padded_case(case, ref.pad_input(case.x, pads)), y,
                   what=f"conv2d(padding='same') vs the conv of x zero-padded by {pads}")
        if p.ekh <= p.h and p.ekw <= p.w:
            yv = be.call("conv2d", case, args=(case.x, case.w, case.b), kwargs={**kw, "padding": "valid"},
                         expect=((p.n, p.o, p.h - p.ekh + 1, p.w - p.ekw + 1), np.asarray(case.x).dtype))
            check_conv(be, _padded_case(case, case.x), yv, what="conv2d(padding='valid') vs the unpadded conv")

    @claim(id="conv2d-padding-mode-is-np-pad", group="seed", source=PAD_SRC, needs={"conv2d"}, expected=HOLDS,
           requires={"padding_modes"}, budget=0.5,
           statement="conv2d with padding_mode reflect / replicate / circular equals np.pad with mode reflect / edge "
                     "/ wrap followed by a conv without padding, within the error model",
           cases=lambda be: S.padding_mode_cases(be.caps))
    def _(be, case):
        p = case.problem
        for mode in [m for m in be.caps.padding_modes if m != "zeros"]:
            y = be.call("conv2d", case, args=(case.x, case.w, case.b), kwargs={**p.kwargs(), "padding_mode": mode})
            xp = ref.pad_input(case.x, ((p.ph, p.ph), (p.pw, p.pw)), mode)
            check_conv(be, _padded_case(case, xp), y,
                       what=f"conv2d(padding_mode={mode!r}) vs np.pad(mode={ref.PADDING_MODES[mode]!r}) + conv2d")


# -- conv1d and conv3d: the same layer in another rank ------------------------------------------------------
RANK_SRC = "torch.nn.functional.conv1d/conv3d docs; issue 10"


def _plain(case):
    """The case without its call form: specs.forms rewrites stride/padding/dilation as pairs, which is the
    2-D contract's argument form, not conv1d's 1-tuples or conv3d's triples."""
    from ..case import Case
    return Case(case.problem, case.arrays, case.seed)


@claim(id="conv1d-is-conv2d-with-height-1", group="seed", source=RANK_SRC, needs={"conv1d", "conv2d"},
       expected=HOLDS, budget=0.5,
       statement="conv1d(x, w) equals conv2d on the same data with a height of 1 (a 1 x k kernel, stride, padding "
                 "and dilation 1 on the height), bit for bit on integers, and matches the definition",
       cases=lambda be: S.conv_cases(be.caps, h=1, kh=1, sh=1, ph=0, dh=1, regimes=("int",)))
def _(be, case):
    p = case.problem
    x1, w1 = np.ascontiguousarray(case.x[:, :, 0]), np.ascontiguousarray(case.w[:, :, 0])
    y1 = be.call("conv1d", _plain(case), args=(x1, w1, case.b), kwargs=dict(stride=(p.sw,), padding=(p.pw,),
                                                                      dilation=(p.dw,), groups=p.g),
                 expect=((p.n, p.o, p.out_hw()[1]), np.asarray(case.x).dtype))
    check_conv(be, case, y1[:, :, None], what="conv1d (as conv2d with H = 1) vs the definition")
    y2 = be.call("conv2d", case)
    equal(y1, y2[:, :, 0], f"{be.name}: conv1d(x, w) vs conv2d(x[:, :, None], w[:, :, None])[:, :, 0]",
          sides={"x": x1, "w": w1, "conv1d": y1, "conv2d": y2[:, :, 0]})


@claim(id="conv2d-is-conv3d-with-depth-1", group="seed", source=RANK_SRC, needs={"conv2d", "conv3d"},
       expected=HOLDS, budget=0.5,
       statement="conv2d(x, w) equals conv3d on the same data with a depth of 1 (kernel depth 1, depth stride, "
                 "padding and dilation 1 / 0 / 1), bit for bit on integers",
       cases=lambda be: S.conv_cases(be.caps, regimes=("int",), max_class=2))
def _(be, case):
    p = case.problem
    x3, w3 = np.ascontiguousarray(case.x[:, :, None]), np.ascontiguousarray(case.w[:, :, None])
    y3 = be.call("conv3d", _plain(case), args=(x3, w3, case.b), kwargs=dict(stride=(1, p.sh, p.sw), padding=(0, p.ph, p.pw),
                                                                      dilation=(1, p.dh, p.dw), groups=p.g),
                 expect=((p.n, p.o, 1, *p.out_hw()), np.asarray(case.x).dtype))
    check_conv(be, case, y3[:, :, 0], what="conv3d (with D = 1) vs the definition")
    y2 = be.call("conv2d", case)
    equal(y3[:, :, 0], y2, f"{be.name}: conv3d(x[:, :, None], w[:, :, None])[:, :, 0] vs conv2d(x, w)",
          sides={"x": case.x, "w": case.w, "conv3d": y3[:, :, 0], "conv2d": y2})
