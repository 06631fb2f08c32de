"""Swaps the kernel's height and width axes when the kernel is square (kH == kW)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, **kw):
    if w.shape[2] == w.shape[3]:
        w = w.transpose(0, 1, 3, 2).copy()
    return _base.conv2d(x, w, b, **kw)
