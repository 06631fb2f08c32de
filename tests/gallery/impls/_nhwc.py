"""A correct channels-first conv of any rank (sliding windows and einsum), shared by the channels-last
entries of the gallery, which move their arrays to it and back (correctly or not).  Not an
implementation under test itself."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def ntuple(v, r):
    return tuple(int(t) for t in v) if isinstance(v, (tuple, list)) else (int(v),) * r


def pairs(padding, r):
    if isinstance(padding, (tuple, list)):
        return tuple((int(p[0]), int(p[1])) if isinstance(p, (tuple, list)) else (int(p), int(p)) for p in padding)
    return ((int(padding), int(padding)),) * r


def conv_nc(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv{1,2,3}d channels first: x (N, C, L...), w (O, C/G, k...), result (N, O, out...)."""
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    r = w.ndim - 2
    s, d, pads = ntuple(stride, r), ntuple(dilation, r), pairs(padding, r)
    o, cg, *k = w.shape
    n = x.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    ek = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
    win = sliding_window_view(xp, ek, axis=tuple(range(2, 2 + r)))
    win = win[(slice(None), slice(None)) + tuple(slice(None, None, t) for t in s) + tuple(slice(None, None, t) for t in d)]
    out = win.shape[2:2 + r]
    sp, kk = "dhw"[3 - r:], "uvt"[:r]
    y = np.einsum(f"ngc{sp}{kk},goc{kk}->ngo{sp}", win.reshape(n, groups, cg, *out, *k),
                  w.reshape(groups, o // groups, cg, *k)).reshape(n, o, *out)
    if b is not None:
        y = y + np.asarray(b).reshape((1, -1) + (1,) * r)
    return y.astype(x.dtype)
