"""scipy.signal.convolve(method='auto') by the cost model alone: the FFT wherever it is estimated faster,
integers or not."""

from __future__ import annotations

import numpy as np
from convspec.specs.libraries import pitfalls as PF
from scipy import signal

from tests.gallery.twins._base import with_ops


def convolve(a, k, mode="full", method="auto"):
    if method == "auto":
        method = "fft" if PF.fft_favoured(np.shape(a), np.shape(k), mode) else "direct"
    return signal.convolve(a, k, mode, method=method)


def backend():
    return with_ops("scipy", "auto-without-int-guard", **{"scipy.signal.convolve": convolve})
