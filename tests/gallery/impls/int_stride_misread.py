"""Reads a plain int stride as (stride, 1): the tuple path is right, ``stride=2`` strides the rows only
(the suite used to pass pairs only)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, *, stride=1, **kw):
    if isinstance(stride, int):
        stride = (stride, 1)
    return _base.conv2d(x, w, b, stride=stride, **kw)
