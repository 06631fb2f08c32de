"""A correct numpy conv_transpose2d / conv2d_input / conv2d_weight with hooks, shared by the wrong
implementations of the gallery's conv-family entries (each injects one classic bug).  Not an
implementation under test itself."""

from __future__ import annotations

import _base
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def conv_transpose2d(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1, flip=True,
                     op_at_start=False):
    """Scatter through the kernel into the uncropped output, then crop by the padding; the output_padding
    rows/columns go at the end (``op_at_start``: at the start, the bug)."""
    (sh, sw), (ph, pw), (dh, dw), (oph, opw) = pair(stride), pair(padding), pair(dilation), pair(output_padding)
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    if not flip:            # the bug: a stride-1 conv2d of the stuffed input with the kernel not rotated
        w = w[:, :, ::-1, ::-1]
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    cg = c // groups
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    fh, fw = (h - 1) * sh + dh * (kh - 1) + 1, (wd - 1) * sw + dw * (kw - 1) + 1
    full = np.zeros((n, og * groups, max(fh, ph + ho) + oph, max(fw, pw + wo) + opw), dtype=x.dtype)
    r_off, c_off = (oph, opw) if op_at_start else (0, 0)
    for u in range(kh):
        for v in range(kw):
            for g in range(groups):
                contrib = np.einsum("nchw,co->nohw", x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg, :, u, v])
                r0, c0 = u * dh + r_off, v * dw + c_off
                full[:, g * og:(g + 1) * og, r0:r0 + (h - 1) * sh + 1:sh, c0:c0 + (wd - 1) * sw + 1:sw] += contrib
    y = full[:, :, ph:ph + ho, pw:pw + wo].copy()
    if b is not None:
        y += b[None, :, None, None]
    return y.astype(x.dtype, copy=False)


def conv2d_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1, **hooks):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    kh, kw = w.shape[2:]
    ho, wo = grad_out.shape[2:]
    op = (int(input_shape[2]) - ((ho - 1) * sh - 2 * ph + dh * (kh - 1) + 1),
          int(input_shape[3]) - ((wo - 1) * sw - 2 * pw + dw * (kw - 1) + 1))
    return conv_transpose2d(grad_out, w, stride=stride, padding=padding, output_padding=op, groups=groups,
                            dilation=dilation, **hooks)


def conv2d_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1, batch=None):
    """Windows of the padded input contracted with grad_out; ``batch`` (the bug) keeps only those images."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    o, cg, kh, kw = (int(v) for v in weight_shape)
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(grad_out)
    if batch is not None:
        x, gy = x[batch], gy[batch]
    ho, wo = gy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    win = win[:, :, :ho, :wo]
    og = o // groups
    gw = np.zeros((o, cg, kh, kw), dtype=gy.dtype)
    for g in range(groups):
        gw[g * og:(g + 1) * og] = np.einsum("nchwuv,nohw->ocuv", win[:, g * cg:(g + 1) * cg],
                                            gy[:, g * og:(g + 1) * og])
    return gw


conv2d = _base.conv2d
