"""np.convolve as scipy.signal.convolve (whose 'same' has the first argument's length)."""

from __future__ import annotations

from scipy import signal

from tests.gallery.twins._base import with_ops


def backend():
    return with_ops("numpy", "np-convolve-is-scipy", **{"np.convolve": signal.convolve})
