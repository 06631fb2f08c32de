"""Batch-chunked path: every image after the first receives the output of the image before it (a chunk offset off by one).

Trigger (3 factors): N > 1 AND padding >= the dilated kernel extent on an axis AND C_in % 8 == 0 (the channel block).
Source: planted (relatives: OpenPPL/ppl.nn#461 conv2d wrong when pad >= kernel; modular/modular#6248 wrong from C_in >= 8)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-batch-padk-c8"
TRIGGER = ("N>1", "padding>=extent", "C_in%8==0")
SOURCE = "planted (relatives: OpenPPL/ppl.nn#461 conv2d wrong when pad >= kernel; modular/modular#6248 wrong from C_in >= 8)"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x, w = np.asarray(x), np.asarray(w)
    y = _conv.conv2d_nc(x, w, b, s, p, d, int(groups))
    ext = [dd * (k - 1) + 1 for dd, k in zip(d, w.shape[2:])]
    if x.shape[0] > 1 and x.shape[1] % 8 == 0 and any(min(lh) >= e for lh, e in zip(p, ext)):
        y[1:] = y[:-1].copy()
    return _conv.done(y, x.dtype)
