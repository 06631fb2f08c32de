"""Accumulates input channels in blocks of 32 and never runs the blocks past the first (correct for
C_in/G <= 32)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

BLOCK = 32


def conv2d(x, w, b=None, **kw):
    groups = kw.get("groups", 1)
    if x.shape[1] // groups > BLOCK:
        w = w.copy()
        w[:, BLOCK:] = 0                 # the channels past the first block are never accumulated
    return _base.conv2d(x, w, b, **kw)
