"""A correct reference-style numpy conv2d with hooks, shared by the wrong implementations of the
gallery (each gallery file injects one realistic bug).  Not an implementation under test itself."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, pad_value=0.0, acc_dtype=None,
           group_weights=None, max_channels=None, out_dtype=None):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    win = sliding_window_view(xp, (ekh, ekw), axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    ho, wo = win.shape[2:4]
    acc = acc_dtype or x.dtype
    og = o // groups
    y = np.zeros((n, o, ho, wo), dtype=acc)
    for g in range(groups):
        gw = g if group_weights is None else group_weights(g)
        xs = win[:, g * cg:(g + 1) * cg].astype(acc)
        ws = w[gw * og:(gw + 1) * og].astype(acc)
        if max_channels is not None:
            xs, ws = xs[:, :max_channels], ws[:, :max_channels]
        y[:, g * og:(g + 1) * og] = np.einsum("nchwuv,ocuv->nohw", xs, ws)
    if b is not None:
        y = y + b.astype(acc)[None, :, None, None]
    return y.astype(out_dtype or x.dtype)


def full2d(a, k, flip=(True, True)):
    """Full 2-D convolution (flip both axes) or correlation (flip none)."""
    a, k = np.asarray(a), np.asarray(k)
    dt = np.result_type(a, k)
    kk = k[::-1 if flip[0] else 1, ::-1 if flip[1] else 1]
    P, Q = k.shape
    ap = np.pad(a.astype(dt), ((P - 1, P - 1), (Q - 1, Q - 1)))
    return np.einsum("ijuv,uv->ij", sliding_window_view(ap, (P, Q)), kk.astype(dt)).astype(dt)


def crop(full, a_shape, k_shape, mode, start):
    if mode == "full":
        return full
    if mode == "same":
        return full[tuple(slice(start(q), start(q) + m) for m, q in zip(a_shape, k_shape))]
    return full[tuple(slice(min(m, q) - 1, max(m, q)) for m, q in zip(a_shape, k_shape))]


def convolve2d(a, k, mode="full", flip=(True, True), start=lambda q: (q - 1) // 2):
    return crop(full2d(a, k, flip), np.shape(a), np.shape(k), mode, start)


def correlate2d(a, k, mode="full", flip=(False, False), start=lambda q: q // 2):
    return crop(full2d(a, np.conj(k), flip), np.shape(a), np.shape(k), mode, start)
