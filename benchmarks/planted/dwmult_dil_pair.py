"""Depthwise-multiplier path with dilation and an asymmetric pad pair orders the output channels (m, C) instead of (C, m).

Trigger (3 factors): depthwise with a multiplier (groups = C_in >= 2, C_out = m C_in, m >= 2) AND a dilation >= 2 AND an asymmetric padding pair.
Source: planted (the channel order of TF's (C, m) depthwise filters vs torch's (C m))
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-dwmult-dil-pair"
TRIGGER = ("depthwise-mult", "dilation>=2", "padding pair")
SOURCE = "planted (the channel order of TF's (C, m) depthwise filters vs torch's (C m))"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x = np.asarray(x)
    y = _conv.conv2d_nc(x, w, b, s, p, d, int(groups))
    c, o = x.shape[1], y.shape[1]
    if groups == c >= 2 and o >= 2 * c and max(d) >= 2 and any(lo != hi for lo, hi in p):
        m = o // c
        y = y.reshape(y.shape[0], c, m, *y.shape[2:]).swapaxes(1, 2).reshape(y.shape)
    return _conv.done(y, x.dtype)
