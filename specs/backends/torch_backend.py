"""torch CPU backends: F.conv2d, nn.Conv2d and F.unfold + matmul (float32 math stays float32)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import Backend, Capabilities, builtin
from ._util import crop, pair


def _t(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


def _np(t):
    return t.detach().cpu().numpy().copy()


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    return _np(F.conv2d(_t(x), _t(w), _t(b), stride=pair(stride), padding=pair(padding),
                        dilation=pair(dilation), groups=groups))


def conv2d_module(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    o, cg, kh, kw = w.shape
    m = torch.nn.Conv2d(cg * groups, o, (kh, kw), stride=pair(stride), padding=pair(padding),
                        dilation=pair(dilation), groups=groups, bias=b is not None, padding_mode="zeros",
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
    y = F.conv2d(_t(a.astype(dt))[None, None], _t(np.ascontiguousarray(kk.astype(dt)))[None, None],
                 padding=(P - 1, Q - 1))
    return _np(y[0, 0])


def convolve2d(a, k, mode="full"):
    return crop(_full(a, k, False), np.shape(a), np.shape(k), mode, correlate=False)


def correlate2d(a, k, mode="full"):
    return crop(_full(a, k, True), np.shape(a), np.shape(k), mode, correlate=True)


def dot2d(a, b):
    return _np(torch.matmul(_t(a), _t(b)))


def conv2d_same(x, w, b=None, *, dilation=1):
    """F.conv2d(padding='same') -- a library behaviour claims examine, not part of the contract."""
    return _np(F.conv2d(_t(x), _t(w), _t(b), padding="same", dilation=pair(dilation)))


def conv_half(x, w, dtype):
    """conv2d in float16 ('f16') or bfloat16 ('bf16') on float32-held values; returns float32."""
    td = torch.float16 if dtype == "f16" else torch.bfloat16
    return F.conv2d(_t(x).to(td), _t(w).to(td)).float().numpy()


_CAPS = Capabilities(dtypes=("f64", "f32", "f16"), deterministic=True)
_VER = torch.__version__


@builtin("torch")
def _torch():
    ops = {"conv2d": conv2d, "convolve2d": convolve2d, "correlate2d": correlate2d, "dot2d": dot2d,
           "torch.conv2d_same": conv2d_same, "torch.F": F,
           "torch.conv_half": conv_half}
    return Backend("torch", ops, _CAPS, library="torch", version=_VER)


@builtin("torch-module")
def _torch_module():
    return Backend("torch-module", {"conv2d": conv2d_module}, Capabilities(dtypes=("f64", "f32"), examples=0.5),
                   library="torch", version=_VER)


@builtin("torch-unfold")
def _torch_unfold():
    return Backend("torch-unfold", {"conv2d": conv2d_unfold},
                   Capabilities(dtypes=("f64", "f32"), examples=0.5), library="torch", version=_VER)
