"""scipy.signal.fftconvolve computed in float32 (its result then cast back to float64)."""

from __future__ import annotations

import numpy as np
from scipy import signal

from tests.gallery.twins._base import with_ops


def fftconvolve(a, k, mode="full"):
    return signal.fftconvolve(a.astype(np.float32), k.astype(np.float32), mode).astype(np.float64)


def backend():
    return with_ops("scipy", "fft-float32", **{"scipy.signal.fftconvolve": fftconvolve})
