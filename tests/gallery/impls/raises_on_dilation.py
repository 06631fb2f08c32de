"""Raises for dilation > 1 without declaring that it lacks dilation support."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, *, dilation=1, **kw):
    if _base.pair(dilation) != (1, 1):
        raise NotImplementedError("dilation")
    return _base.conv2d(x, w, b, **kw)
