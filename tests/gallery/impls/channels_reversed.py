"""Reads the input channels in reverse order (a layout mix-up: BGR vs RGB)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, *, groups=1, **kw):
    if groups == 1:
        x = x[:, ::-1].copy()
    return _base.conv2d(x, w, b, groups=groups, **kw)
