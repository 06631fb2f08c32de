"""torch CPU backends: F.conv2d, nn.Conv2d and F.unfold + matmul (float32 math stays float32).

The adapters accept every call form of the contract (:mod:`convspec.model.forms`): arrays in any layout are
handed to torch as C-contiguous, writeable tensors (a copy when they are not already), and
stride/padding/dilation as pairs of ints.

**Threads.**  torch's intra-op pool is set to ``$CONVSPEC_TORCH_THREADS`` threads, 1 by default
(``torch.set_num_threads``, process-wide).  The suite's convolutions are small and run in several
processes at once (pytest-xdist, other jobs): on a 2-core machine with two processes, a 1x2x6x6
float32 conv took 235 us with 2 threads each and 38 us with 1, a 5x16x40x40 one 40 ms against 2.9 ms
(``benchmarks``: see the report of issue 9); alone on an idle machine, 2 threads gain at most 1.8x on
the largest problems drawn.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F

from convspec.backends._util import crop, ntuple, pad_pairs, pair, torch_tensor, transpose_params
from convspec.backends.base import Backend, Capabilities
from convspec.backends.registry import builtin
from convspec.model.problem import np_dtype


def _threads() -> int:
    v = os.environ.get("CONVSPEC_TORCH_THREADS", "").strip()
    return max(1, int(v)) if v.isdigit() else 1


torch.set_num_threads(_threads())


_t = torch_tensor


def _np(t):
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(_BF16).copy()
    return t.numpy().copy()


_BF16 = np_dtype("bf16")
_FN = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_TFN = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MODULE = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}


def _flat_pad(pads):
    """((before, after), ...) in (D, H, W) order -> F.pad's flat list, last axis first."""
    return [v for lo, hi in reversed(pads) for v in (lo, hi)]


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """F.conv{1,2,3}d.  An asymmetric padding (pairs) or a padding_mode is F.pad first, then a conv with
    padding 0 (what nn.Conv{r}d does for a padding_mode); a string goes to torch as it is."""
    r = np.ndim(w) - 2
    fn = _FN[r]
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    if isinstance(padding, str) and padding_mode == "zeros":
        return _np(fn(_t(x), _t(w), _t(b), stride=s, padding=padding, dilation=d, groups=groups))
    pads = pad_pairs(padding, np.shape(w)[2:], d)
    if padding_mode != "zeros" or any(lo != hi for lo, hi in pads):
        mode = "constant" if padding_mode == "zeros" else padding_mode
        xp = F.pad(_t(x), _flat_pad(pads), mode=mode)
        return _np(fn(xp, _t(w), _t(b), stride=s, padding=0, dilation=d, groups=groups))
    return _np(fn(_t(x), _t(w), _t(b), stride=s, padding=tuple(lo for lo, _ in pads), dilation=d, groups=groups))


conv1d = conv2d = conv3d = conv


def conv_module(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """nn.Conv{1,2,3}d with the given weight and bias (its padding_mode path included)."""
    r = np.ndim(w) - 2
    o, cg, *k = w.shape
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    if not isinstance(padding, str):
        pads = pad_pairs(padding, k, d)
        if any(lo != hi for lo, hi in pads):       # the module takes one padding per axis
            xp = _np(F.pad(_t(x), _flat_pad(pads), mode="constant" if padding_mode == "zeros" else padding_mode))
            return conv_module(xp, w, b, stride=s, padding=0, dilation=d, groups=groups)
        padding = tuple(lo for lo, _ in pads)
    m = _MODULE[r](cg * groups, o, tuple(k), stride=s, padding=padding, dilation=d, groups=groups,
                   bias=b is not None, padding_mode=padding_mode, dtype=_t(x).dtype)
    with torch.no_grad():
        m.weight.copy_(_t(w))
        if b is not None:
            m.bias.copy_(_t(b))
        return _np(m(_t(x)))


conv2d_module = conv_module


def conv2d_unfold(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """F.unfold (rows ordered (c, u, v)) and a matmul per group."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    cols = F.unfold(_t(x), (kh, kw), dilation=(dh, dw), padding=(ph, pw), stride=(sh, sw))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    cols = cols.reshape(n, groups, cg * kh * kw, ho * wo)
    wr = _t(w).reshape(groups, o // groups, cg * kh * kw)
    y = torch.matmul(wr[None], cols).reshape(n, o, ho, wo)
    if b is not None:
        y = y + _t(b)[None, :, None, None]
    return _np(y)


def _full(a, k, correlate):
    a, k = np.asarray(a), np.asarray(k)
    dt = np.result_type(a, k)
    kk = k if correlate else k[::-1, ::-1]
    P, Q = k.shape
    y = F.conv2d(_t(a.astype(dt))[None, None], _t(kk.astype(dt))[None, None],
                 padding=(P - 1, Q - 1))
    return _np(y[0, 0])


def convolve2d(a, k, mode="full"):
    return crop(_full(a, k, False), np.shape(a), np.shape(k), mode, correlate=False)


def correlate2d(a, k, mode="full"):
    return crop(_full(a, k, True), np.shape(a), np.shape(k), mode, correlate=True)


# -- the transposed convs and the gradients, every rank (issue 10) ------------------------------------

def _transpose_args(w, stride, padding, output_padding, dilation):
    return (np.ndim(w) - 2, *transpose_params(w, stride, padding, output_padding, dilation))


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    r, s, p, op, d = _transpose_args(w, stride, padding, output_padding, dilation)
    return _np(_TFN[r](_t(x), _t(w), _t(b), stride=s, padding=p, output_padding=op, groups=groups, dilation=d))


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose

_GRAD_INPUT = {1: torch.nn.grad.conv1d_input, 2: torch.nn.grad.conv2d_input, 3: torch.nn.grad.conv3d_input}
_GRAD_WEIGHT = {1: torch.nn.grad.conv1d_weight, 2: torch.nn.grad.conv2d_weight, 3: torch.nn.grad.conv3d_weight}


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.grad.conv{r}d_input."""
    r, s, p, _, d = _transpose_args(w, stride, padding, 0, dilation)
    return _np(_GRAD_INPUT[r](tuple(int(v) for v in input_shape), _t(w), _t(grad_out), stride=s, padding=p,
                              dilation=d, groups=groups))


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.grad.conv{r}d_weight."""
    ws = tuple(int(v) for v in weight_shape)
    r, s, p, _, d = _transpose_args(np.empty(ws, dtype=np.int8), stride, padding, 0, dilation)
    return _np(_GRAD_WEIGHT[r](_t(x), ws, _t(grad_out), stride=s, padding=p, dilation=d, groups=groups))


conv1d_input = conv2d_input = conv3d_input = conv_input
conv1d_weight = conv2d_weight = conv3d_weight = conv_weight


def _autograd(x, w, grad_out, wrt, **kw):
    xt = _t(x).clone().requires_grad_(wrt == "input")
    wt = _t(w).clone().requires_grad_(wrt == "weight")
    _FN[np.ndim(w) - 2](xt, wt, **kw).backward(_t(grad_out))
    return _np(xt.grad if wrt == "input" else wt.grad)


def _autograd_kw(w, stride, padding, dilation, groups):
    r, s, p, _, d = _transpose_args(w, stride, padding, 0, dilation)
    return dict(stride=s, padding=p, dilation=d, groups=groups)


def conv_input_autograd(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv{r}d(x, w), grad_out>/dx by autograd (x's values do not matter: zeros)."""
    x = np.zeros(tuple(int(v) for v in input_shape), dtype=np.asarray(grad_out).dtype)
    return _autograd(x, w, grad_out, "input", **_autograd_kw(w, stride, padding, dilation, groups))


def conv_weight_autograd(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv{r}d(x, w), grad_out>/dw by autograd (w's values do not matter: zeros)."""
    w = np.zeros(tuple(int(v) for v in weight_shape), dtype=np.asarray(grad_out).dtype)
    return _autograd(x, w, grad_out, "weight", **_autograd_kw(w, stride, padding, dilation, groups))


conv2d_input_autograd, conv2d_weight_autograd = conv_input_autograd, conv_weight_autograd


def dot2d(a, b):
    return _np(torch.matmul(_t(a), _t(b)))


def conv2d_same(x, w, b=None, *, dilation=1):
    """F.conv2d(padding='same') -- a library behaviour claims examine, not part of the contract."""
    return _np(F.conv2d(_t(x), _t(w), _t(b), padding="same", dilation=pair(dilation)))


def conv_half(x, w, dtype):
    """conv2d in float16 ('f16') or bfloat16 ('bf16') on float32-held values; returns float32."""
    td = torch.float16 if dtype == "f16" else torch.bfloat16
    return F.conv2d(_t(x).to(td), _t(w).to(td)).float().numpy()


#: torch's CPU kernels sum the forward convs' half-precision data in fp32 (rounded once), but the transposed
#: convs and both gradients in the half format (measured: torch-cpu-half-conv-transpose-rounds-once,
#: torch-cpu-half-gradients-round-once)
HALF_ACCUMULATE = {f"{kind}:{dt}": dt for kind in ("transpose", "input", "weight") for dt in ("f16", "bf16")}
_CAPS = Capabilities(dtypes=("f64", "f32", "f16", "bf16"), deterministic=True, padding_strings=True,
                     padding_modes=("zeros", "reflect", "replicate", "circular"), padding_pairs=True,
                     accumulate=HALF_ACCUMULATE)
_VER = torch.__version__


@builtin("torch")
def _torch():
    ops = {"conv2d": conv2d, "convolve2d": convolve2d, "correlate2d": correlate2d, "dot2d": dot2d,
           "torch.conv2d_same": conv2d_same, "torch.F": F,
           "torch.conv_half": conv_half,
           **{f"conv{r}d": conv for r in (1, 2, 3)}, **{f"conv_transpose{r}d": conv_transpose for r in (1, 2, 3)},
           **{f"conv{r}d_input": conv_input for r in (1, 2, 3)}, **{f"conv{r}d_weight": conv_weight for r in (1, 2, 3)}}
    return Backend("torch", ops, _CAPS, library="torch", version=_VER)


@builtin("torch-module")
def _torch_module():
    return Backend("torch-module", {f"conv{r}d": conv_module for r in (1, 2, 3)},
                   Capabilities(dtypes=("f64", "f32", "f16", "bf16"), examples=0.5, padding_strings=True,
                                padding_modes=("zeros", "reflect", "replicate", "circular"), padding_pairs=True),
                   library="torch", version=_VER)


@builtin("torch-unfold")
def _torch_unfold():
    return Backend("torch-unfold", {"conv2d": conv2d_unfold},
                   # not f16/bf16: unfold + matmul in the half format rounds every partial product (measured)
                   Capabilities(dtypes=("f64", "f32"), examples=0.5), library="torch", version=_VER)


@builtin("torch-autograd")
def _torch_autograd():
    """The gradients of F.conv2d by autograd (backward of conv2d against grad_out)."""
    return Backend("torch-autograd", {**{f"conv{r}d_input": conv_input_autograd for r in (1, 2, 3)},
                                      **{f"conv{r}d_weight": conv_weight_autograd for r in (1, 2, 3)}},
                   Capabilities(dtypes=("f64", "f32", "f16", "bf16"), examples=0.5, accumulate=HALF_ACCUMULATE),
                   library="torch", version=_VER)


# -- channels last (issue 10): torch's channels_last / channels_last_3d memory formats ---------------------

_CL_FORMAT = {4: torch.channels_last, 5: torch.channels_last_3d}


def _channels_last(a):
    """A channels-last array (N, L..., C) as the NC... tensor torch sees, stored channels last: a permuted view
    made contiguous in torch.channels_last (4-D) / channels_last_3d (5-D) memory format."""
    t = _t(a)
    t = t.permute(0, t.ndim - 1, *range(1, t.ndim - 1)).contiguous(memory_format=_CL_FORMAT[t.ndim])
    assert t.is_contiguous(memory_format=_CL_FORMAT[t.ndim]), "not channels_last"
    return t


def conv_channels_last(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """F.conv2d / F.conv3d on channels-last tensors: x (N, L..., C), w OIHW (O, C/G, k...) -- both stored in
    torch's channels_last(_3d) format, so torch takes its channels-last kernels -- returning (N, out..., O).
    conv1d has no channels-last format in torch (3-D tensors): it is conv2d with a height of 1.  An
    asymmetric padding is np.pad on the spatial axes first.

    The bias is added after the conv (y + b, which keeps the memory format), not passed to it: torch 2.13's
    oneDNN (v3.12) channels-last float32 conv with a bias segfaults when an output position's window lies
    entirely in the padding (BRGEMM conv ``perform_outwork``; pytorch/pytorch#195394, uxlfoundation/oneDNN#5942).
    Measured here (forked children, random problems with channels-last x and w): with a bias 38 crashes in
    2706 conv2d/conv3d problems, every one with such an output position; without a bias none in 4054."""
    r = np.ndim(w) - 2
    if r == 1:
        x, w = np.asarray(x)[:, None], np.asarray(w)[:, :, None]
        stride, dilation = (1, *ntuple(stride, 1, "stride")), (1, *ntuple(dilation, 1, "dilation"))
        padding = padding if isinstance(padding, str) else (0, *pad_pairs(padding, w.shape[3:], dilation[1:]))
        return conv_channels_last(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)[:, 0]
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    if not isinstance(padding, str):
        pads = pad_pairs(padding, np.shape(w)[2:], d)
        if any(lo != hi for lo, hi in pads):
            x, padding = np.pad(np.asarray(x), ((0, 0), *pads, (0, 0))), 0
        else:
            padding = tuple(lo for lo, _ in pads)
    y = _FN[r](_channels_last(x), _t(w).contiguous(memory_format=_CL_FORMAT[r + 2]), None, stride=s,
               padding=padding, dilation=d, groups=groups)
    if b is not None:
        y = y + _t(b).reshape(1, -1, *(1,) * r)
    return _np(y.permute(0, *range(2, r + 2), 1))


@builtin("torch-channels-last")
def _torch_channels_last():
    """F.conv{1,2,3}d taking and returning channels-last arrays, run in torch's channels_last memory format."""
    return Backend("torch-channels-last", {f"conv{r}d": conv_channels_last for r in (1, 2, 3)},
                   # not f16/bf16: the bias added after the conv (the segfault workaround above) would round
                   # twice, a departure of this adapter, not of torch (measured: off by half an ulp at 14/64)
                   Capabilities(dtypes=("f64", "f32"), padding_strings=True, padding_pairs=True, layout="NHWC"),
                   library="torch", version=_VER)
