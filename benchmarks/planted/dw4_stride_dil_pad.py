"""Depthwise with stride AND dilation AND padding (through a space-to-batch rewrite): the last output column is never written (zeros).

Trigger (4 factors): depthwise (groups = C_in >= 2) AND a stride >= 2 AND a dilation >= 2 AND padding > 0.
Source: replica of tensorflow/tensorflow#31514 / #57128 (depthwise with stride > 1 and dilation > 1 gives wrong values or shape); the padding factor planted
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-dw4-stride-dil-pad"
TRIGGER = ("depthwise", "stride>=2", "dilation>=2", "padding>0")
SOURCE = "replica of tensorflow/tensorflow#31514 / #57128 (depthwise with stride > 1 and dilation > 1 gives wrong values or shape); the padding factor planted"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x = np.asarray(x)
    y = _conv.conv2d_nc(x, w, b, s, p, d, int(groups))
    if groups == x.shape[1] >= 2 and max(s) >= 2 and max(d) >= 2 and any(v > 0 for lh in p for v in lh):
        y[..., -1] = 0
    return _conv.done(y, x.dtype)
