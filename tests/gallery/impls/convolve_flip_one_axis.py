"""convolve2d that flips the kernel along the rows only (convolution in H, correlation in W)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def convolve2d(a, k, mode="full"):
    return _base.convolve2d(a, k, mode, flip=(True, False))


def correlate2d(a, k, mode="full"):
    return _base.correlate2d(a, k, mode)
