"""Treats dilation d as d-1 zeros... plus one: taps spaced d+1 apart, output cropped to the contract shape."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def conv2d(x, w, b=None, *, dilation=1, stride=1, padding=0, groups=1):
    dh, dw = _base.pair(dilation)
    if dh == dw == 1:
        return _base.conv2d(x, w, b, dilation=1, stride=stride, padding=padding, groups=groups)
    ph, pw = _base.pair(padding)
    kh, kw = w.shape[2:]
    extra = ((kh - 1), (kw - 1))
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph + extra[0]), (pw, pw + extra[1])))
    return _base.conv2d(xp, w, b, dilation=(dh + 1 if dh > 1 else 1, dw + 1 if dw > 1 else 1), stride=stride,
                        padding=0, groups=groups)
