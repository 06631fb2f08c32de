"""Keeps one output buffer per shape and returns it on every call ("avoid allocations"): a result
returned earlier is overwritten by the next call of the same shape.  Each result is correct when
returned."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402

_BUFFERS = {}


def conv2d(x, w, b=None, **kw):
    y = _base.conv2d(x, w, b, **kw)
    buf = _BUFFERS.setdefault((y.shape, y.dtype.str), np.empty_like(y))
    buf[...] = y
    return buf
