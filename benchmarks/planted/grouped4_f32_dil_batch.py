"""Grouped (not depthwise) float32 dilated path with a batch: images after the first use the groups' weights in reverse order.

Trigger (4 factors): grouped (2 <= groups < C_in) AND dtype f32 AND a dilation >= 2 AND N > 1.
Source: planted (the shape of the issue's grouped-conv bug: four features together)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-grouped4-f32-dil-batch"
TRIGGER = ("grouped", "f32", "dilation>=2", "N>1")
SOURCE = "planted (the shape of the issue's grouped-conv bug: four features together)"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x, w = np.asarray(x), np.asarray(w)
    y = _conv.conv2d_nc(x, w, b, s, p, d, int(groups))
    if 2 <= groups < x.shape[1] and x.dtype == np.float32 and max(d) >= 2 and x.shape[0] > 1:
        og = w.shape[0] // groups
        wr = w.reshape(groups, og, *w.shape[1:])[::-1].reshape(w.shape)
        y[1:] = _conv.conv2d_nc(x[1:], wr, b, s, p, d, int(groups))
    return _conv.done(y, x.dtype)
