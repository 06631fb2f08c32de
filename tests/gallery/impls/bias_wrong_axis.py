"""Adds the bias along the batch axis (b[n % C_out]) instead of the channel axis."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def conv2d(x, w, b=None, **kw):
    y = _base.conv2d(x, w, None, **kw)
    if b is not None:
        y = y + b[np.arange(y.shape[0]) % len(b)][:, None, None, None].astype(y.dtype)
    return y
