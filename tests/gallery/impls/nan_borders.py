"""Leaves padded borders uninitialised (NaN) when the padding exceeds half the kernel."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def conv2d(x, w, b=None, *, padding=0, **kw):
    ph, pw = _base.pair(padding)
    y = _base.conv2d(x, w, b, padding=padding, **kw)
    if ph > w.shape[2] // 2 and y.dtype.kind == "f":
        y[:, :, 0, :] = np.nan
    return y
