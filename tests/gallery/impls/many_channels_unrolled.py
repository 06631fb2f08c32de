"""An 8-way unrolled channel loop: sums only the first 8 input channels of each group."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, **kw):
    return _base.conv2d(x, w, b, max_channels=8, **kw)
