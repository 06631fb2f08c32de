"""Loses an update on every 7th call (a race in a reduction): that call's first output element misses
its last term.  Every other call is correct."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402

_CALLS = [0]


def conv2d(x, w, b=None, **kw):
    y = _base.conv2d(x, w, b, **kw)
    _CALLS[0] += 1
    if _CALLS[0] % 7 == 0 and y.size:
        y.flat[0] += np.asarray(1, dtype=y.dtype)
    return y
