"""Passes (stride_w, stride_h) where (stride_h, stride_w) is meant."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, *, stride=1, **kw):
    sh, sw = _base.pair(stride)
    return _base.conv2d(x, w, b, stride=(sw, sh), **kw)
