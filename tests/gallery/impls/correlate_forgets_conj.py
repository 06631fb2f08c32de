"""correlate2d that forgets to conjugate a complex kernel (declares complex data)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

CAPABILITIES = {"dtypes": ["f64", "c128"]}


def convolve2d(a, k, mode="full"):
    return _base.convolve2d(a, k, mode)


def correlate2d(a, k, mode="full"):
    return _base.correlate2d(a, np.conj(k), mode)      # _base conjugates: this undoes it
