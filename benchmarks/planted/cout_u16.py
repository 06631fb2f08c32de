"""Output-channel index kept in 16 bits: channel o is computed with the weights (and bias) of o mod 65536.

Trigger (1 factor (an extent)): C_out >= 65537.
Source: planted (the grid-dimension limit behind Dao-AILab/causal-conv1d#32, channels >= 2**16, and LBANN/lbann#1946)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-cout-u16"
TRIGGER = ("C_out>=65537",)
SOURCE = "planted (the grid-dimension limit behind Dao-AILab/causal-conv1d#32, channels >= 2**16, and LBANN/lbann#1946)"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x, w = np.asarray(x), np.asarray(w)
    o = w.shape[0]
    if o > 65536 and groups == 1:
        idx = np.arange(o) & 0xFFFF
        w = w[idx]
        b = None if b is None else np.asarray(b)[idx]
    return _conv.done(_conv.conv2d_nc(x, w, b, s, p, d, int(groups)), x.dtype)
