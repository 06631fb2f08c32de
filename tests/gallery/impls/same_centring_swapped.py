"""convolve2d centres 'same' like correlate2d (from P//2): wrong by one for even kernels."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def convolve2d(a, k, mode="full"):
    return _base.convolve2d(a, k, mode, start=lambda q: q // 2)


def correlate2d(a, k, mode="full"):
    return _base.correlate2d(a, k, mode)
