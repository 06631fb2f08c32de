"""torch CPU backends: F.conv2d, nn.Conv2d and F.unfold + matmul (float32 math stays float32).

The adapters accept every call form of the contract (:mod:`specs.forms`): arrays in any layout are
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

from . import Backend, Capabilities, builtin
from ._util import crop, pair


def _threads() -> int:
    v = os.environ.get("CONVSPEC_TORCH_THREADS", "").strip()
    return max(1, int(v)) if v.isdigit() else 1


torch.set_num_threads(_threads())


def _t(a):
    """A CPU tensor on the values of ``a``: zero-copy when C-contiguous and writeable, else a copy
    (torch rejects negative strides and warns on read-only arrays)."""
    if a is None:
        return None
    a = np.asarray(a)
    if not (a.flags.c_contiguous and a.flags.writeable):
        a = np.array(a, order="C", copy=True)
    return torch.from_numpy(a)


def _np(t):
    return t.detach().cpu().numpy().copy()


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    if padding_mode != "zeros":        # what nn.Conv2d does: F.pad with the mode, then a conv without padding
        from ..reference import resolve_padding
        (t, bo), (le, r) = resolve_padding(padding, w.shape[2:], dilation)
        xp = F.pad(_t(x), (le, r, t, bo), mode=padding_mode)
        return _np(F.conv2d(xp, _t(w), _t(b), stride=pair(stride), padding=0, dilation=pair(dilation), groups=groups))
    if isinstance(padding, str):
        return _np(F.conv2d(_t(x), _t(w), _t(b), stride=pair(stride), padding=padding, dilation=pair(dilation),
                            groups=groups))
    return _np(F.conv2d(_t(x), _t(w), _t(b), stride=pair(stride), padding=pair(padding),
                        dilation=pair(dilation), groups=groups))


def conv2d_module(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    o, cg, kh, kw = w.shape
    m = torch.nn.Conv2d(cg * groups, o, (kh, kw), stride=pair(stride),
                        padding=padding if isinstance(padding, str) else pair(padding),
                        dilation=pair(dilation), groups=groups, bias=b is not None, padding_mode=padding_mode,
                        dtype=_t(x).dtype)
    with torch.no_grad():
        m.weight.copy_(_t(w))
        if b is not None:
            m.bias.copy_(_t(b))
        return _np(m(_t(x)))


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


# -- the transposed conv and the gradients (issue 10) ---------------------------------------------

def conv_transpose2d(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _np(F.conv_transpose2d(_t(x), _t(w), _t(b), stride=pair(stride), padding=pair(padding),
                                  output_padding=pair(output_padding), groups=groups, dilation=pair(dilation)))


def conv2d_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    return _np(torch.nn.grad.conv2d_input(tuple(int(v) for v in input_shape), _t(w), _t(grad_out),
                                          stride=pair(stride), padding=pair(padding), dilation=pair(dilation),
                                          groups=groups))


def conv2d_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    return _np(torch.nn.grad.conv2d_weight(_t(x), tuple(int(v) for v in weight_shape), _t(grad_out),
                                           stride=pair(stride), padding=pair(padding), dilation=pair(dilation),
                                           groups=groups))


def _ntuple(v, n):
    return tuple(int(t) for t in v) if isinstance(v, (tuple, list)) else (int(v),) * n


def conv1d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    return _np(F.conv1d(_t(x), _t(w), _t(b), stride=_ntuple(stride, 1), padding=_ntuple(padding, 1),
                        dilation=_ntuple(dilation, 1), groups=groups))


def conv3d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    return _np(F.conv3d(_t(x), _t(w), _t(b), stride=_ntuple(stride, 3), padding=_ntuple(padding, 3),
                        dilation=_ntuple(dilation, 3), groups=groups))


def _autograd(x, w, grad_out, wrt, **kw):
    xt = _t(x).clone().requires_grad_(wrt == "input")
    wt = _t(w).clone().requires_grad_(wrt == "weight")
    F.conv2d(xt, wt, **kw).backward(_t(grad_out))
    return _np(xt.grad if wrt == "input" else wt.grad)


def conv2d_input_autograd(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv2d(x, w), grad_out>/dx by autograd (x's values do not matter: zeros)."""
    x = np.zeros(tuple(int(v) for v in input_shape), dtype=np.asarray(grad_out).dtype)
    return _autograd(x, w, grad_out, "input", stride=pair(stride), padding=pair(padding), dilation=pair(dilation),
                     groups=groups)


def conv2d_weight_autograd(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv2d(x, w), grad_out>/dw by autograd (w's values do not matter: zeros)."""
    w = np.zeros(tuple(int(v) for v in weight_shape), dtype=np.asarray(grad_out).dtype)
    return _autograd(x, w, grad_out, "weight", stride=pair(stride), padding=pair(padding), dilation=pair(dilation),
                     groups=groups)


def dot2d(a, b):
    return _np(torch.matmul(_t(a), _t(b)))


def conv2d_same(x, w, b=None, *, dilation=1):
    """F.conv2d(padding='same') -- a library behaviour claims examine, not part of the contract."""
    return _np(F.conv2d(_t(x), _t(w), _t(b), padding="same", dilation=pair(dilation)))


def conv_half(x, w, dtype):
    """conv2d in float16 ('f16') or bfloat16 ('bf16') on float32-held values; returns float32."""
    td = torch.float16 if dtype == "f16" else torch.bfloat16
    return F.conv2d(_t(x).to(td), _t(w).to(td)).float().numpy()


_CAPS = Capabilities(dtypes=("f64", "f32", "f16"), deterministic=True, padding_strings=True,
                     padding_modes=("zeros", "reflect", "replicate", "circular"))
_VER = torch.__version__


@builtin("torch")
def _torch():
    ops = {"conv2d": conv2d, "convolve2d": convolve2d, "correlate2d": correlate2d, "dot2d": dot2d,
           "torch.conv2d_same": conv2d_same, "torch.F": F,
           "torch.conv_half": conv_half,
           "conv_transpose2d": conv_transpose2d, "conv2d_input": conv2d_input, "conv2d_weight": conv2d_weight,
           "conv1d": conv1d, "conv3d": conv3d}
    return Backend("torch", ops, _CAPS, library="torch", version=_VER)


@builtin("torch-module")
def _torch_module():
    return Backend("torch-module", {"conv2d": conv2d_module},
                   Capabilities(dtypes=("f64", "f32"), examples=0.5, padding_strings=True,
                                padding_modes=("zeros", "reflect", "replicate", "circular")),
                   library="torch", version=_VER)


@builtin("torch-unfold")
def _torch_unfold():
    return Backend("torch-unfold", {"conv2d": conv2d_unfold},
                   Capabilities(dtypes=("f64", "f32"), examples=0.5), library="torch", version=_VER)


@builtin("torch-autograd")
def _torch_autograd():
    """The gradients of F.conv2d by autograd (backward of conv2d against grad_out)."""
    return Backend("torch-autograd", {"conv2d_input": conv2d_input_autograd, "conv2d_weight": conv2d_weight_autograd},
                   Capabilities(dtypes=("f64", "f32"), examples=0.5), library="torch", version=_VER)
