"""numpy backends: sliding windows with einsum, and im2col with one matmul (own code, numpy only).

Inputs of any layout (:mod:`specs.forms`) are brought to C order first, so that the summation order,
and hence the result, is the same bit for bit whatever the layout."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import Backend, Capabilities, builtin
from ._util import crop, pair


def _windows(x, kh, kw, stride, padding, dilation):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    xp = np.pad(np.ascontiguousarray(x), ((0, 0), (0, 0), (ph, ph), (pw, pw)))     # C order whatever the layout
    ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    win = sliding_window_view(xp, (ekh, ekw), axis=(2, 3))          # (N, C, H', W', ekh, ekw)
    return win[:, :, ::sh, ::sw, ::dh, ::dw]                          # (N, C, Ho, Wo, kh, kw)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """Sliding windows contracted with einsum, per group."""
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    win = _windows(x, kh, kw, stride, padding, dilation)
    ho, wo = win.shape[2:4]
    win = win.reshape(n, groups, cg, ho, wo, kh, kw)
    wg = np.ascontiguousarray(w).reshape(groups, o // groups, cg, kh, kw)
    y = np.einsum("ngchwuv,gocuv->ngohw", win, wg, optimize=True).reshape(n, o, ho, wo)
    if b is not None:
        y = y + b[None, :, None, None]
    return y.astype(x.dtype, copy=False)


def conv2d_im2col(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """X_col (rows (c, u, v)) and one matmul per group."""
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    win = _windows(x, kh, kw, stride, padding, dilation)              # (N, C, Ho, Wo, kh, kw)
    ho, wo = win.shape[2:4]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(n, groups, cg * kh * kw, ho * wo)
    wr = np.ascontiguousarray(w).reshape(groups, o // groups, cg * kh * kw)
    y = np.matmul(wr[None], cols).reshape(n, o, ho, wo)
    if b is not None:
        y = y + b[None, :, None, None]
    return y.astype(x.dtype, copy=False)


def _full(a, k, correlate):
    a, k = np.ascontiguousarray(a), np.ascontiguousarray(k)   # the same summation order for every layout
    dt = np.result_type(a, k)
    kk = np.conj(k) if correlate else k[::-1, ::-1]
    P, Q = k.shape
    ap = np.pad(a.astype(dt), ((P - 1, P - 1), (Q - 1, Q - 1)))
    win = sliding_window_view(ap, (P, Q))
    return np.einsum("ijuv,uv->ij", win, kk.astype(dt)).astype(dt, copy=False)


def convolve2d(a, k, mode="full"):
    return crop(_full(a, k, False), np.shape(a), np.shape(k), mode, correlate=False)


def correlate2d(a, k, mode="full"):
    return crop(_full(a, k, True), np.shape(a), np.shape(k), mode, correlate=True)


def dot2d(a, b):
    return np.dot(a, b)


@builtin("numpy")
def _numpy():
    ops = {"conv2d": conv2d, "convolve2d": convolve2d, "correlate2d": correlate2d, "dot2d": dot2d,
           "np.convolve": np.convolve, "np.correlate": np.correlate, "np.pad": np.pad}
    return Backend("numpy", ops, Capabilities(dtypes=("f64", "f32")), library="numpy", version=np.__version__)


@builtin("numpy-im2col")
def _numpy_im2col():
    return Backend("numpy-im2col", {"conv2d": conv2d_im2col}, Capabilities(dtypes=("f64", "f32")),
                   library="numpy", version=np.__version__)
