"""Ignores dilation (the output shape is then wrong too)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, *, dilation=1, **kw):
    return _base.conv2d(x, w, b, dilation=1, **kw)
