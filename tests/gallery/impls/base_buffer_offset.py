"""Hands its kernel the buffer that owns x (``x.base``) to avoid a copy, forgetting the view's offset:
wrong for an x that is a view into a larger buffer."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def conv2d(x, w, b=None, **kw):
    if x.flags.c_contiguous and isinstance(x.base, np.ndarray) and x.base.size > x.size:
        x = x.base.reshape(-1)[:x.size].reshape(x.shape)
    return _base.conv2d(x, w, b, **kw)
