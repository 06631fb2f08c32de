"""Tiles the output in blocks of 16 rows and drops the remainder rows when H_out > 16."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

TILE = 16


def conv2d(x, w, b=None, **kw):
    y = _base.conv2d(x, w, b, **kw)
    ho = y.shape[2]
    if ho > TILE:
        y[:, :, (ho // TILE) * TILE:] = 0
    return y
