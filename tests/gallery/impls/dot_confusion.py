"""Takes the seed question's reading literally: each output is sum(np.dot(window, kernel)), a matrix
product of the window with the kernel, instead of the sum of element-wise products."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402


def _dotsum(win, k):
    return np.einsum("...iu,uj->...", win, k)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    if w.shape[2] != w.shape[3]:
        return _base.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = _base.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    if groups == 1 and _base.pair(dilation) == (1, 1) and _base.pair(padding) == (0, 0) and _base.pair(stride) == (1, 1):
        k = w.shape[2]
        win = sliding_window_view(x, (k, k), axis=(2, 3))       # (N, C, Ho, Wo, k, k)
        y = np.einsum("nchwiu,ocuj->nohw", win, w).astype(x.dtype)
        if b is not None:
            y = y + b[None, :, None, None]
    return y


def convolve2d(a, k, mode="full"):
    if mode != "valid" or np.shape(k)[0] != np.shape(k)[1] or any(q > m for m, q in zip(np.shape(a), np.shape(k))):
        return _base.convolve2d(a, k, mode)
    win = sliding_window_view(np.asarray(a), np.shape(k))
    return np.einsum("hwiu,uj->hw", win, np.asarray(k)[::-1, ::-1]).astype(np.result_type(a, k))


def correlate2d(a, k, mode="full"):
    return _base.correlate2d(a, k, mode)
