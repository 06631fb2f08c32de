"""Batch index kept in 16 bits (a grid dimension): image n is written to slot n mod 65536, so from N = 65537 on image 0 is overwritten and images >= 65536 stay zero.

Trigger (1 factor (an extent)): N >= 65537 (at N = 65536 every slot is still its own image).
Source: replica of tensorflow/tensorflow#9870 (conv inference wrong past batch 65535: case 65536 zero) and Theano/Theano#6045 (cuDNN wrong at batch 65537)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-batch-u16"
TRIGGER = ("N>=65537",)
SOURCE = "replica of tensorflow/tensorflow#9870 (conv inference wrong past batch 65535: case 65536 zero) and Theano/Theano#6045 (cuDNN wrong at batch 65537)"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x = np.asarray(x)
    y = _conv.conv2d_nc(x, w, b, s, p, d, int(groups))
    n = x.shape[0]
    if n > 65536:
        out = np.zeros_like(y)
        out[np.arange(n) & 0xFFFF] = y          # image i lands in slot i & 0xFFFF (the later image wins)
        y = out
    return _conv.done(y, x.dtype)
