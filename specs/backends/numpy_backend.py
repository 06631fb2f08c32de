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


def _explicit(x, w, padding, dilation, padding_mode):
    """A padding string or mode becomes an explicitly padded input (np.pad) and padding 0."""
    from ..reference import pad_input, resolve_padding
    pads = resolve_padding(padding, w.shape[2:], dilation)
    return pad_input(np.ascontiguousarray(x), pads, padding_mode)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """Sliding windows contracted with einsum, per group."""
    if isinstance(padding, str) or padding_mode != "zeros":
        if padding == "same" and pair(stride) != (1, 1):
            raise ValueError("padding='same' needs stride 1")
        return conv2d(_explicit(x, w, padding, dilation, padding_mode), w, b, stride=stride, padding=0,
                      dilation=dilation, groups=groups)
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


# -- the transposed conv and the gradients (issue 10) ---------------------------------------------

def _stuff_and_pad(x, stride, padding, output_padding, kh, kw, dilation):
    """x with (s - 1) zeros between elements, then d (k - 1) - p zeros before and that plus op after
    (a negative amount crops): the input on which a stride-1 conv gives the transposed conv."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    oph, opw = pair(output_padding)
    n, c, h, wd = x.shape
    z = np.zeros((n, c, (h - 1) * sh + 1, (wd - 1) * sw + 1), dtype=x.dtype)
    z[:, :, ::sh, ::sw] = x
    out = []
    for axis, (e, p, op) in ((2, (dh * (kh - 1), ph, oph)), (3, (dw * (kw - 1), pw, opw))):
        before, after = e - p, e - p + op
        if before < 0:
            z = np.take(z, np.arange(-before, z.shape[axis]), axis=axis)
            before = 0
        if after < 0:
            z = np.take(z, np.arange(0, z.shape[axis] + after), axis=axis)
            after = 0
        out.append((before, after))
    return np.pad(z, ((0, 0), (0, 0), *out))


def conv_transpose2d(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Zero-stuffing by the stride, padding by d (k - 1) - p, and a stride-1 conv2d with the kernel
    rotated by 180 degrees and its two channel axes swapped per group."""
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    c, og, kh, kw = w.shape
    cg = c // groups
    wt = w.reshape(groups, cg, og, kh, kw).transpose(0, 2, 1, 3, 4).reshape(groups * og, cg, kh, kw)
    xs = _stuff_and_pad(x, stride, padding, output_padding, kh, kw, dilation)
    y = conv2d(xs, np.ascontiguousarray(wt[:, :, ::-1, ::-1]), b, dilation=dilation, groups=groups)
    return y.astype(x.dtype, copy=False)


def conv2d_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """The transposed conv of grad_out, with the output_padding that gives back ``input_shape``."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    kh, kw = w.shape[2:]
    ho, wo = grad_out.shape[2:]
    op = (int(input_shape[2]) - ((ho - 1) * sh - 2 * ph + dh * (kh - 1) + 1),
          int(input_shape[3]) - ((wo - 1) * sw - 2 * pw + dw * (kw - 1) + 1))
    return conv_transpose2d(grad_out, w, stride=stride, padding=padding, output_padding=op, groups=groups,
                            dilation=dilation)


def conv2d_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """Sliding windows of the input contracted with grad_out over the batch and output pixels, per group."""
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(grad_out)
    o, cg, kh, kw = (int(v) for v in weight_shape)
    n = x.shape[0]
    win = _windows(x, kh, kw, stride, padding, dilation)               # (N, C, Ho, Wo, kh, kw)
    ho, wo = gy.shape[2:]
    win = win[:, :, :ho, :wo].reshape(n, groups, cg, ho, wo, kh, kw)
    gg = gy.reshape(n, groups, o // groups, ho, wo)
    gw = np.einsum("ngchwuv,ngohw->gocuv", win, gg, optimize=True).reshape(o, cg, kh, kw)
    return gw.astype(gy.dtype, copy=False)


# -- conv1d and conv3d (issue 10) ---------------------------------------------------------------------

def _ntuple(v, n: int, name: str) -> tuple:
    """An int or a tuple/list of length n -> a tuple of n ints."""
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"{name}={v!r}: expected an int or {n} ints")
        return tuple(int(t) for t in v)
    return (int(v),) * n


def conv1d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv2d on (N, C, 1, L) inputs with (O, C/G, 1, k) kernels."""
    (s,), (p,), (d,) = _ntuple(stride, 1, "stride"), _ntuple(padding, 1, "padding"), _ntuple(dilation, 1, "dilation")
    y = conv2d(np.ascontiguousarray(x)[:, :, None], np.ascontiguousarray(w)[:, :, None], b, stride=(1, s),
               padding=(0, p), dilation=(1, d), groups=groups)
    return np.ascontiguousarray(y[:, :, 0])


def conv3d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """Sliding 3-D windows contracted with einsum, per group."""
    s, p, d = _ntuple(stride, 3, "stride"), _ntuple(padding, 3, "padding"), _ntuple(dilation, 3, "dilation")
    x = np.ascontiguousarray(x)
    n = x.shape[0]
    o, cg, *k = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), *((q, q) for q in p)))
    ek = tuple(dd * (kk - 1) + 1 for dd, kk in zip(d, k))
    win = sliding_window_view(xp, ek, axis=(2, 3, 4))[:, :, ::s[0], ::s[1], ::s[2], ::d[0], ::d[1], ::d[2]]
    od = win.shape[2:5]
    win = win.reshape(n, groups, cg, *od, *k)
    wg = np.ascontiguousarray(w).reshape(groups, o // groups, cg, *k)
    y = np.einsum("ngcdhwxyz,gocxyz->ngodhw", win, wg, optimize=True).reshape(n, o, *od)
    if b is not None:
        y = y + b[None, :, None, None, None]
    return y.astype(x.dtype, copy=False)


def dot2d(a, b):
    return np.dot(a, b)


@builtin("numpy")
def _numpy():
    ops = {"conv2d": conv2d, "convolve2d": convolve2d, "correlate2d": correlate2d, "dot2d": dot2d,
           "np.convolve": np.convolve, "np.correlate": np.correlate, "np.pad": np.pad,
           "conv_transpose2d": conv_transpose2d, "conv2d_input": conv2d_input, "conv2d_weight": conv2d_weight,
           "conv1d": conv1d, "conv3d": conv3d}
    return Backend("numpy", ops, Capabilities(dtypes=("f64", "f32"), padding_strings=True,
                                              padding_modes=("zeros", "reflect", "replicate", "circular")),
                   library="numpy", version=np.__version__)


@builtin("numpy-im2col")
def _numpy_im2col():
    return Backend("numpy-im2col", {"conv2d": conv2d_im2col}, Capabilities(dtypes=("f64", "f32")),
                   library="numpy", version=np.__version__)
