"""convolve2d/correlate2d through a binding that ignores strides: it reads ``a`` and ``k`` from their data
pointers in memory order, as if they were C-contiguous.  Right for C-contiguous input only."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def _memory_order(a):
    a = np.asarray(a)
    return a if a.flags.c_contiguous else np.ravel(a, order="K").reshape(a.shape)


def convolve2d(a, k, mode="full"):
    return _base.convolve2d(_memory_order(a), _memory_order(k), mode)


def correlate2d(a, k, mode="full"):
    return _base.correlate2d(_memory_order(a), _memory_order(k), mode)
