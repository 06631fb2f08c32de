"""scipy.signal.convolve(method='direct') of integers computed in float64 and rounded back."""

from __future__ import annotations

import numpy as np
from scipy import signal

from tests.gallery.twins._base import with_ops


def convolve(a, k, mode="full", method="auto"):
    r = signal.convolve(a.astype(np.float64), k.astype(np.float64), mode, method="direct")
    return np.round(r).astype(np.int64) if method == "direct" else signal.convolve(a, k, mode, method=method)


def backend():
    return with_ops("scipy", "direct-via-float", **{"scipy.signal.convolve": convolve})
