"""A correct but limited implementation that declares what it supports: stride <= 2, no dilation, no
groups, float64 only, inputs up to 16x16.  It raises outside that; the suite must skip, not fail."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

NAME = "correct-limited"
CAPABILITIES = {"stride": 2, "dilation": False, "groups": False, "dtypes": ["f64"], "max_size": 16}


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    if max(_base.pair(stride)) > 2 or _base.pair(dilation) != (1, 1) or groups != 1 or max(x.shape[2:]) > 16:
        raise ValueError("outside the declared capabilities")
    return _base.conv2d(x, w, b, stride=stride, padding=padding)
