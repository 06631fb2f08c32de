"""Pads with ones instead of zeros."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, **kw):
    return _base.conv2d(x, w, b, pad_value=1.0, **kw)
