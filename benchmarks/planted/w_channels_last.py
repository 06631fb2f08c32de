"""Weights whose strides are those of a channels-last (O, kh, kw, C) buffer are read in memory order as if contiguous OIHW.

Trigger (2 factors): w with channels-last strides AND C_in/G >= 2 (with one input channel per group the two orders coincide).
Source: replica of pytorch/pytorch#55781 (NNPACK wrong for non-contiguous weights) and pytorch/pytorch#1246; see also pytorch/pytorch#82060
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-w-channels-last"
TRIGGER = ("w channels-last strides", "C_in/G>=2")
SOURCE = "replica of pytorch/pytorch#55781 (NNPACK wrong for non-contiguous weights) and pytorch/pytorch#1246; see also pytorch/pytorch#82060"
CAPABILITIES = dict(_conv.CONV_CAPS)


def _channels_last(w):
    o, c, kh, kw = w.shape
    it = w.itemsize
    return not w.flags.c_contiguous and w.strides == (kh * kw * c * it, it, kw * c * it, c * it)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x, w = np.asarray(x), np.asarray(w)
    if _channels_last(w):
        c_strides = np.empty(w.shape, w.dtype).strides
        w = np.lib.stride_tricks.as_strided(w, shape=w.shape, strides=c_strides).copy()
    return _conv.done(_conv.conv2d_nc(x, w, b, s, p, d, int(groups)), x.dtype)
