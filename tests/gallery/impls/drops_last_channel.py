"""Loops over input channels with range(C - 1): the last channel of each group is dropped."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, **kw):
    cg = w.shape[1]
    return _base.conv2d(x, w, b, max_channels=max(cg - 1, 0) if cg > 1 else None, **kw)
