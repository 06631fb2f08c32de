"""Scales x by 2 in place for a fast path and scales it back before returning (exact in binary
floating point), so the input looks untouched -- but a read-only x makes it raise."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, **kw):
    x *= 2
    try:
        y = _base.conv2d(x, w, None, **kw) / 2
    finally:
        x /= 2
    if b is not None:
        y = y + b[None, :, None, None]
    return y.astype(x.dtype)
