"""Computes output channels in blocks of 64; the bias of the second block is taken from the first
(correct for C_out <= 64)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

BLOCK = 64


def conv2d(x, w, b=None, **kw):
    y = _base.conv2d(x, w, None, **kw)
    if b is not None:
        bb = b.copy()
        if bb.shape[0] > BLOCK:
            bb[BLOCK:] = bb[:bb.shape[0] - BLOCK]
        y = y + bb[None, :, None, None].astype(y.dtype)
    return y
