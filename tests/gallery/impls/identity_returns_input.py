"""Short-cuts a 1x1 single-channel identity conv by returning the input itself (a view)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, *, stride=1, padding=0, **kw):
    if w.shape == (1, 1, 1, 1) and w[0, 0, 0, 0] == 1 and b is None and _base.pair(stride) == (1, 1) \
            and _base.pair(padding) == (0, 0):
        return x
    return _base.conv2d(x, w, b, stride=stride, padding=padding, **kw)
