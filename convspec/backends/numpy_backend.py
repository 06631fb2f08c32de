"""numpy backends: sliding windows with einsum, and im2col with one matmul (own code, numpy only), for
conv1d/2d/3d, the transposed convs and the gradients in every rank.

Inputs of any layout (:mod:`convspec.model.forms`) are brought to C order first, so that the summation order,
and hence the result, is the same bit for bit whatever the layout."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convspec.backends._util import crop, ntuple, pad_pairs, transpose_params
from convspec.backends.base import Backend, Capabilities
from convspec.backends.registry import builtin
from convspec.truth.reference import pad_input


def _windows(x, kernel, stride, pads, dilation):
    """(N, C, out..., k...) sliding windows of x zero-padded by ``pads``, strided and dilated."""
    r = len(kernel)
    xp = np.pad(np.ascontiguousarray(x), ((0, 0), (0, 0), *pads))      # C order whatever the layout
    ek = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    win = sliding_window_view(xp, ek, axis=tuple(range(2, 2 + r)))      # (N, C, L'..., ek...)
    return win[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)
               + tuple(slice(None, None, d) for d in dilation)]


def _params(x, w, stride, padding, dilation, padding_mode):
    """(x padded as the mode and padding string ask, (stride, pads, dilation)) for a conv of any rank."""
    r = np.ndim(w) - 2
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    if isinstance(padding, str) and padding == "same" and s != (1,) * r:
        raise ValueError("padding='same' needs stride 1")
    pads = pad_pairs(padding, np.shape(w)[2:], d)
    if padding_mode != "zeros":
        return pad_input(np.ascontiguousarray(x), pads, padding_mode), (s, ((0, 0),) * r, d)
    return x, (s, pads, d)


_LETTERS = "defhijklm"


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv{1,2,3}d: sliding windows contracted with einsum, per group."""
    x, (s, pads, d) = _params(x, w, stride, padding, dilation, padding_mode)
    r = np.ndim(w) - 2
    n = x.shape[0]
    o, cg, *k = w.shape
    win = _windows(x, k, s, pads, d)
    out = win.shape[2:2 + r]
    win = win.reshape(n, groups, cg, *out, *k)
    wg = np.ascontiguousarray(w).reshape(groups, o // groups, cg, *k)
    sp, kk = _LETTERS[:r], "uvt"[:r]
    y = np.einsum(f"ngc{sp}{kk},goc{kk}->ngo{sp}", win, wg, optimize=True).reshape(n, o, *out)
    if b is not None:
        y = y + np.asarray(b).reshape((1, -1) + (1,) * r)
    return y.astype(x.dtype, copy=False)


conv1d = conv2d = conv3d = conv


def conv_im2col(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """X_col (rows (c, u...)) and one matmul per group, any rank."""
    x, (s, pads, d) = _params(x, w, stride, padding, dilation, "zeros")
    r = np.ndim(w) - 2
    n, c = x.shape[:2]
    o, cg, *k = w.shape
    win = _windows(x, k, s, pads, d)                                   # (N, C, out..., k...)
    out = win.shape[2:2 + r]
    order = (0, 1) + tuple(range(2 + r, 2 + 2 * r)) + tuple(range(2, 2 + r))
    kk = int(np.prod(k))
    cols = win.transpose(order).reshape(n, groups, cg * kk, int(np.prod(out)))
    wr = np.ascontiguousarray(w).reshape(groups, o // groups, cg * kk)
    y = np.matmul(wr[None], cols).reshape(n, o, *out)
    if b is not None:
        y = y + np.asarray(b).reshape((1, -1) + (1,) * r)
    return y.astype(x.dtype, copy=False)


conv2d_im2col = conv_im2col


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


# -- the transposed convs and the gradients, every rank (issue 10) -----------------------------------

def _stuff_and_pad(x, stride, padding, output_padding, kernel, dilation):
    """x with (s - 1) zeros between elements, then d (k - 1) - p zeros before and that plus op after
    (a negative amount crops): the input on which a stride-1 conv gives the transposed conv."""
    r = len(kernel)
    n, c, *L = x.shape
    z = np.zeros((n, c, *((li - 1) * si + 1 for li, si in zip(L, stride))), dtype=x.dtype)
    z[(slice(None), slice(None)) + tuple(slice(None, None, si) for si in stride)] = x
    out = []
    for axis in range(r):
        e = dilation[axis] * (kernel[axis] - 1)
        before, after = e - padding[axis], e - padding[axis] + output_padding[axis]
        if before < 0:
            z = np.take(z, np.arange(-before, z.shape[2 + axis]), axis=2 + axis)
            before = 0
        if after < 0:
            z = np.take(z, np.arange(0, z.shape[2 + axis] + after), axis=2 + axis)
            after = 0
        out.append((before, after))
    return np.pad(z, ((0, 0), (0, 0), *out))


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """conv_transpose{1,2,3}d: zero-stuffing by the stride, padding by d (k - 1) - p, and a stride-1 conv
    with the kernel reversed on every spatial axis and its two channel axes swapped per group."""
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    s, p, op, d = transpose_params(w, stride, padding, output_padding, dilation)
    r = len(s)
    c, og, *k = w.shape
    cg = c // groups
    wt = w.reshape(groups, cg, og, *k).swapaxes(1, 2).reshape(groups * og, cg, *k)
    xs = _stuff_and_pad(x, s, p, op, k, d)
    flip = (slice(None), slice(None)) + (slice(None, None, -1),) * r
    y = conv(xs, np.ascontiguousarray(wt[flip]), b, dilation=d, groups=groups)
    return y.astype(x.dtype, copy=False)


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """The transposed conv of grad_out, with the output_padding that gives back ``input_shape``."""
    s, p, _, d = transpose_params(w, stride, padding, 0, dilation)
    k = w.shape[2:]
    op = tuple(int(input_shape[2 + i]) - ((grad_out.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1)
               for i in range(len(s)))
    return conv_transpose(grad_out, w, stride=s, padding=p, output_padding=op, groups=groups, dilation=d)


conv1d_input = conv2d_input = conv3d_input = conv_input


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """Sliding windows of the input contracted with grad_out over the batch and output positions, per group."""
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(grad_out)
    o, cg, *k = (int(v) for v in weight_shape)
    r = len(k)
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    pads = pad_pairs(padding, k, d)
    n = x.shape[0]
    out = gy.shape[2:]
    win = _windows(x, k, s, pads, d)[(slice(None), slice(None)) + tuple(slice(0, t) for t in out)]
    win = win.reshape(n, groups, cg, *out, *k)
    gg = gy.reshape(n, groups, o // groups, *out)
    sp, kk = _LETTERS[:r], "uvt"[:r]
    gw = np.einsum(f"ngc{sp}{kk},ngo{sp}->goc{kk}", win, gg, optimize=True).reshape(o, cg, *k)
    return gw.astype(gy.dtype, copy=False)


conv1d_weight = conv2d_weight = conv3d_weight = conv_weight


def dot2d(a, b):
    return np.dot(a, b)


@builtin("numpy")
def _numpy():
    ops = {"conv2d": conv2d, "convolve2d": convolve2d, "correlate2d": correlate2d, "dot2d": dot2d,
           "np.convolve": np.convolve, "np.correlate": np.correlate, "np.pad": np.pad,
           **{f"conv{r}d": conv for r in (1, 2, 3)}, **{f"conv_transpose{r}d": conv_transpose for r in (1, 2, 3)},
           **{f"conv{r}d_input": conv_input for r in (1, 2, 3)}, **{f"conv{r}d_weight": conv_weight for r in (1, 2, 3)}}
    return Backend("numpy", ops, Capabilities(dtypes=("f64", "f32"), padding_strings=True,
                                              padding_modes=("zeros", "reflect", "replicate", "circular"), padding_pairs=True),
                   library="numpy", version=np.__version__)


@builtin("numpy-im2col")
def _numpy_im2col():
    return Backend("numpy-im2col", {f"conv{r}d": conv_im2col for r in (1, 2, 3)},
                   Capabilities(dtypes=("f64", "f32"), padding_pairs=True),
                   library="numpy", version=np.__version__)


# -- channels last (issue 10): NWC / NHWC / NDHWC activations, HWIO weights, written in that layout ------

def _windows_nhwc(x, kernel, stride, pads, dilation):
    """(N, out..., C, k...) sliding windows of a channels-last x zero-padded by ``pads`` on the spatial axes
    1..r, strided and dilated."""
    r = len(kernel)
    xp = np.pad(np.ascontiguousarray(x), ((0, 0), *pads, (0, 0)))
    ek = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    win = sliding_window_view(xp, ek, axis=tuple(range(1, 1 + r)))    # (N, L'..., C, ek...)
    return win[(slice(None),) + tuple(slice(None, None, s) for s in stride) + (slice(None),)
               + tuple(slice(None, None, d) for d in dilation)]


def conv_nhwc(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv{1,2,3}d channels last: x (N, L..., C), w HWIO (k..., C/G, O), result (N, out..., O)::

        y[n, i..., g*O/G + o] = b[g*O/G + o] + sum_{c, u...} xp[n, i*s + u*d..., g*C/G + c] * w[u..., c, g*O/G + o]
    """
    r = np.ndim(w) - 2
    *k, cg, o = w.shape
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    if isinstance(padding, str) and padding == "same" and s != (1,) * r:
        raise ValueError("padding='same' needs stride 1")
    pads = pad_pairs(padding, k, d)
    n = x.shape[0]
    win = _windows_nhwc(x, k, s, pads, d)
    out = win.shape[1:1 + r]
    win = win.reshape(n, *out, groups, cg, *k)
    wg = np.ascontiguousarray(w).reshape(*k, cg, groups, o // groups)
    sp, kk = _LETTERS[:r], "uvt"[:r]
    y = np.einsum(f"n{sp}gc{kk},{kk}cgo->n{sp}go", win, wg, optimize=True).reshape(n, *out, o)
    if b is not None:
        y = y + np.asarray(b)
    return y.astype(x.dtype, copy=False)


def conv_transpose_nhwc(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """conv_transpose{1,2,3}d channels last: x (N, L..., C_in), w HWIO (k..., C_out/G, C_in): zero-stuffing by
    the stride and padding by d (k - 1) - p on the spatial axes, then a stride-1 channels-last conv with the
    kernel reversed on every spatial axis and (C_out/G, G, C_in/G) read as (C_in/G, G, C_out/G)."""
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    r = np.ndim(w) - 2
    *k, og, c = w.shape
    cg = c // groups
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    pads = pad_pairs(padding, k, d)
    if any(lo != hi for lo, hi in pads):
        raise ValueError(f"padding={padding!r}: a transposed conv takes one padding per axis")
    p, op = tuple(lo for lo, _ in pads), ntuple(output_padding, r, "output_padding")
    xs = np.moveaxis(_stuff_and_pad(np.moveaxis(x, -1, 1), s, p, op, k, d), 1, -1)   # the spatial axes only
    wt = w.reshape(*k, og, groups, cg)
    wt = np.moveaxis(wt, (r, r + 1, r + 2), (r + 2, r + 1, r)).reshape(*k, cg, groups * og)
    wt = np.ascontiguousarray(wt[(slice(None, None, -1),) * r])
    return conv_nhwc(xs, wt, b, dilation=d, groups=groups).astype(x.dtype, copy=False)


def conv_input_nhwc(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """conv{r}d_input channels last (input_shape (N, L..., C), w HWIO, grad_out (N, out..., O)): the transposed
    conv of grad_out with the output_padding that gives back ``input_shape``."""
    r = np.ndim(w) - 2
    k = w.shape[:r]
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    p = tuple(lo for lo, _ in pad_pairs(padding, k, d))
    op = tuple(int(input_shape[1 + i]) - ((grad_out.shape[1 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1)
               for i in range(r))
    return conv_transpose_nhwc(grad_out, w, stride=s, padding=p, output_padding=op, groups=groups, dilation=d)


def conv_weight_nhwc(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """conv{r}d_weight channels last: x (N, L..., C), weight_shape HWIO (k..., C/G, O), grad_out (N, out..., O)::

        gw[u..., c, g*O/G + o] = sum_{n, i...} grad_out[n, i..., g*O/G + o] * xp[n, i*s + u*d..., g*C/G + c]
    """
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(grad_out)
    *k, cg, o = (int(v) for v in weight_shape)
    r = len(k)
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    pads = pad_pairs(padding, k, d)
    n = x.shape[0]
    out = gy.shape[1:1 + r]
    win = _windows_nhwc(x, k, s, pads, d)[(slice(None),) + tuple(slice(0, t) for t in out)]
    win = win.reshape(n, *out, groups, cg, *k)
    gg = gy.reshape(n, *out, groups, o // groups)
    sp, kk = _LETTERS[:r], "uvt"[:r]
    gw = np.einsum(f"n{sp}gc{kk},n{sp}go->{kk}cgo", win, gg, optimize=True).reshape(*k, cg, o)
    return gw.astype(gy.dtype, copy=False)


@builtin("numpy-nhwc")
def _numpy_nhwc():
    """Channels last with HWIO weights (TensorFlow's default layouts), written directly in that layout."""
    ops = {**{f"conv{r}d": conv_nhwc for r in (1, 2, 3)}, **{f"conv_transpose{r}d": conv_transpose_nhwc for r in (1, 2, 3)},
           **{f"conv{r}d_input": conv_input_nhwc for r in (1, 2, 3)},
           **{f"conv{r}d_weight": conv_weight_nhwc for r in (1, 2, 3)}}
    return Backend("numpy-nhwc", ops, Capabilities(dtypes=("f64", "f32"), padding_strings=True, padding_pairs=True,
                                                   layout="NHWC", weight_layout="HWIO"),
                   library="numpy", version=np.__version__)
