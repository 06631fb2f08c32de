"""correlate2d that flips the kernel, i.e. computes a convolution."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def convolve2d(a, k, mode="full"):
    return _base.convolve2d(a, k, mode)


def correlate2d(a, k, mode="full"):
    return _base.correlate2d(a, k, mode, flip=(True, True), start=lambda q: (q - 1) // 2)
