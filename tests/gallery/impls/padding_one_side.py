"""Puts all the padding on the top/left (2p before, 0 after) instead of p on each side."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def conv2d(x, w, b=None, *, padding=0, **kw):
    ph, pw = _base.pair(padding)
    xp = np.pad(x, ((0, 0), (0, 0), (2 * ph, 0), (2 * pw, 0)))
    return _base.conv2d(xp, w, b, padding=0, **kw)
