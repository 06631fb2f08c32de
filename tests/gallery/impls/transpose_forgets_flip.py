"""conv_transpose2d written as 'stuff zeros, then conv2d' without rotating the kernel by 180 degrees (its
conv2d is correct)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _family  # noqa: E402

conv2d = _family.conv2d


def conv_transpose2d(x, w, b=None, **kw):
    return _family.conv_transpose2d(x, w, b, flip=False, **kw)
