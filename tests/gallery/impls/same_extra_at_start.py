"""conv2d whose padding='same' puts the extra element of an even kernel at the start (TF's rule for the
opposite parity, or a ceil where torch floors) instead of the end."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

CAPABILITIES = {"padding_strings": True}


def conv2d(x, w, b=None, *, padding=0, dilation=1, **kw):
    if padding == "valid":
        padding = 0
    if padding != "same":
        return _base.conv2d(x, w, b, padding=padding, dilation=dilation, **kw)
    dh, dw = _base.pair(dilation)
    th, tw = dh * (w.shape[2] - 1), dw * (w.shape[3] - 1)
    xp = np.pad(x, ((0, 0), (0, 0), (th - th // 2, th // 2), (tw - tw // 2, tw // 2)))
    return _base.conv2d(xp, w, b, padding=0, dilation=dilation, **kw)
