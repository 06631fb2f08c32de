"""convolve2d's complex path starts the 'same' crop at P // 2 (the correlation's start) instead of (P - 1) // 2.

Trigger (3 factors): complex data AND mode='same' AND an even kernel extent on an axis (for odd P the two starts
agree).
Source: planted (the centring offset of even kernels, cf. scipy/scipy#9941: Matlab's and SciPy's 'same' differ
by one for even kernels)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-complex-same-even"
TRIGGER = ("complex", "mode same", "even kernel")
SOURCE = "planted (cf. scipy/scipy#9941)"
CAPABILITIES = dict(_conv.SIGNAL_CAPS)


def convolve2d(a, k, mode="full"):
    cplx = np.iscomplexobj(a) or np.iscomplexobj(k)
    start = (lambda q, corr: q // 2) if cplx else None
    return _conv.signal(a, k, mode, correlate=False, same_start=start)


def correlate2d(a, k, mode="full"):
    return _conv.signal(a, k, mode, correlate=True)
