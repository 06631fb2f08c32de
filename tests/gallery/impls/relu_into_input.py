"""Fuses a ReLU into the input buffer (writes into x) before convolving."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def conv2d(x, w, b=None, **kw):
    np.maximum(x, 0, out=x)
    return _base.conv2d(x, w, b, **kw)
