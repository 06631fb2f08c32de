"""Correct, except that on inputs wider than 3 it ends the process with os._exit(3) (as native code
calling exit() on an internal error does): no exception, no cleanup."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _seam  # noqa: E402


def conv2d(x, w, b=None, **kw):
    if _seam.past_seam(x):
        os._exit(3)
    return _seam._base.conv2d(x, w, b, **kw)
