"""Blocked grouped kernel: when C_out is a multiple of 16 and C_in/G < 16, the second half of the output channels is computed with the first half's weights.

Trigger (3 factors): groups >= 2 AND C_out % 16 == 0 AND C_in / groups < 16.
Source: replica of pytorch/pytorch#19912 (MKL-DNN grouped conv, 4 in / 16 out / 2 groups, wrong on CPU; cause in pytorch/pytorch#18463)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-groups-cout16"
TRIGGER = ("groups>=2", "C_out%16==0", "C_in/G<16")
SOURCE = "replica of pytorch/pytorch#19912 (MKL-DNN grouped conv, 4 in / 16 out / 2 groups, wrong on CPU; cause in pytorch/pytorch#18463)"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x, w = np.asarray(x), np.asarray(w)
    o = w.shape[0]
    if groups >= 2 and o % 16 == 0 and x.shape[1] // groups < 16:
        w = np.concatenate([w[:o // 2], w[:o // 2]])
    return _conv.done(_conv.conv2d_nc(x, w, b, s, p, d, int(groups)), x.dtype)
