"""convolve2d that never flips the kernel (a correlation), with a correct correlate2d."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def convolve2d(a, k, mode="full"):
    return _base.convolve2d(a, k, mode, flip=(False, False))


def correlate2d(a, k, mode="full"):
    return _base.correlate2d(a, k, mode)
