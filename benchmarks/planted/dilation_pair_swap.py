"""Dilated path swaps the (before, after) padding of each axis.

Trigger (2 factors): a dilation >= 2 AND an asymmetric padding pair (before != after).
Source: planted
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-dilation-pair-swap"
TRIGGER = ("dilation>=2", "padding pair")
SOURCE = "planted"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x = np.asarray(x)
    if max(d) >= 2 and any(lo != hi for lo, hi in p):
        p = tuple((hi, lo) for lo, hi in p)
    return _conv.done(_conv.conv2d_nc(x, w, b, s, p, d, int(groups)), x.dtype)
