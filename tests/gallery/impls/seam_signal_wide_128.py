"""convolve2d/correlate2d in tiles of 128 output columns; columns past the first tile are shifted by
one (correct for outputs up to 128 wide)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def _tiled(y):
    if y.shape[-1] > 128:
        y = y.copy()
        y[..., 128:] = np.roll(y, 1, axis=-1)[..., 128:]
    return y


def convolve2d(a, k, mode="full"):
    return _tiled(_base.convolve2d(a, k, mode))


def correlate2d(a, k, mode="full"):
    return _tiled(_base.correlate2d(a, k, mode))
