"""Computes the output in tiles of 64 columns; past the first tile the column offset is off by one
input column (a tile-seam bug: correct for W_out <= 64)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

TILE = 64


def conv2d(x, w, b=None, **kw):
    y = _base.conv2d(x, w, b, **kw)
    if y.shape[3] > TILE:
        x2 = np.concatenate([x[..., 1:], x[..., -1:]], axis=3)      # reads one column to the right
        y[..., TILE:] = _base.conv2d(x2, w, b, **kw)[..., TILE:]
    return y
