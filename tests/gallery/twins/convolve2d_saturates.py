"""convolve2d of int8 data that saturates at -128/127 instead of wrapping."""

from __future__ import annotations

import numpy as np
from scipy import signal

from tests.gallery.twins._base import with_ops


def convolve2d(a, k, mode="full"):
    return np.clip(signal.convolve2d(a.astype(np.int64), k.astype(np.int64), mode), -128, 127).astype(np.int8)


def backend():
    return with_ops("scipy", "convolve2d-saturates", **{"convolve2d": convolve2d})
