"""Declares dilation (the default: it is never probed off) and raises ValueError for dilation > 1: a declared
capability that fails on valid input.  (Raising NotImplementedError would decline the problem instead.)"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

CAPABILITIES = {"dilation": True}


def conv2d(x, w, b=None, *, dilation=1, **kw):
    if _base.pair(dilation) != (1, 1):
        raise ValueError("dilation")
    return _base.conv2d(x, w, b, **kw)
