"""Fortran-ordered weights take a grouped path that adds group 0's biases to every group.

Trigger (3 factors): weights in Fortran order (not C-contiguous) AND groups >= 2 AND a bias.
Source: planted (relative: pytorch/pytorch#1246, convolutions wrong for non-contiguous weights)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-fortran-w-groups-bias"
TRIGGER = ("w Fortran-ordered", "groups>=2", "bias")
SOURCE = "planted (relative: pytorch/pytorch#1246, convolutions wrong for non-contiguous weights)"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x = np.asarray(x)
    w_arr = np.asarray(w)
    if b is not None and groups >= 2 and w_arr.flags.f_contiguous and not w_arr.flags.c_contiguous:
        og = w_arr.shape[0] // groups
        b = np.concatenate([np.asarray(b)[:og]] * int(groups))
    return _conv.done(_conv.conv2d_nc(x, w, b, s, p, d, int(groups)), x.dtype)
