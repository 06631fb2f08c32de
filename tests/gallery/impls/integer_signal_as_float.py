"""convolve2d/correlate2d that return float64 for integer input (scipy keeps the integer type)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

CAPABILITIES = {"dtypes": ["f64", "i32", "i8"]}


def convolve2d(a, k, mode="full"):
    return _base.convolve2d(np.asarray(a, dtype=np.float64), np.asarray(k, dtype=np.float64), mode)


def correlate2d(a, k, mode="full"):
    return _base.correlate2d(np.asarray(a, dtype=np.float64), np.asarray(k, dtype=np.float64), mode)
