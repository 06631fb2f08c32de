"""Adds one pixel of implicit 'same'-style padding to 1x1 convs (the output grows by 2)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def conv2d(x, w, b=None, *, padding=0, **kw):
    if w.shape[2:] == (1, 1):
        x = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    return _base.conv2d(x, w, b, padding=padding, **kw)
