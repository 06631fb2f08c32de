"""Correct, except that on inputs wider than 3 it reads address 0 (ctypes.string_at(0)): the process
dies by SIGSEGV, as a native kernel with an out-of-bounds read does."""
import ctypes
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _seam  # noqa: E402


def conv2d(x, w, b=None, **kw):
    if _seam.past_seam(x):
        ctypes.string_at(0)
    return _seam._base.conv2d(x, w, b, **kw)
