"""A "sparsity fast path": taps whose weight is zero are skipped, so 0 * NaN and 0 * Inf never happen
and a NaN or Inf input under a zero weight vanishes.  Correct on finite data."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (ph, pw), (dh, dw) = _base.pair(stride), _base.pair(padding), _base.pair(dilation)
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    y = np.zeros((x.shape[0], o) + win.shape[2:4], dtype=x.dtype)
    og = o // groups
    for oi, c, u, v in zip(*np.nonzero(w)):          # only the nonzero weights
        y[:, oi] += w[oi, c, u, v] * win[:, (oi // og) * cg + c, :, :, u, v]
    if b is not None:
        y += b[None, :, None, None]
    return y
