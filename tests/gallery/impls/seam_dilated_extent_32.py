"""Stages the dilated kernel's input rows in a 32-row buffer; a longer dilated extent silently drops
the last kernel row (correct while dH*(kH-1)+1 <= 32)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def conv2d(x, w, b=None, **kw):
    dh = _base.pair(kw.get("dilation", 1))[0]
    kh = w.shape[2]
    if dh * (kh - 1) + 1 > 32:
        w = w.copy()
        w[:, :, -1, :] = 0
    return _base.conv2d(x, w, b, **kw)
