"""Adds a 'normalisation' term: every output also sees the mean of the whole input (a dense row)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, **kw):
    y = _base.conv2d(x, w, b, **kw)
    return (y + x.mean(axis=(1, 2, 3), keepdims=True).astype(y.dtype) / 4).astype(x.dtype)
