"""Depthwise fast path at stride >= 2 convolves (kernel flipped) instead of correlating.

Trigger (2 factors): groups = C_in >= 2 (depthwise) AND a stride >= 2 (visible with a kernel of 2+ taps).
Source: planted
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-dw-stride-flip"
TRIGGER = ("depthwise", "stride>=2")
SOURCE = "planted"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x, w = np.asarray(x), np.asarray(w)
    if groups == x.shape[1] >= 2 and max(s) >= 2:
        w = w[:, :, ::-1, ::-1]
    return _conv.done(_conv.conv2d_nc(x, w, b, s, p, d, int(groups)), x.dtype)
