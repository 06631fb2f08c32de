"""scipy.signal.fftconvolve as the direct sum (no FFT at all)."""

from __future__ import annotations

from scipy import signal

from tests.gallery.twins._base import with_ops


def direct_only(a, k, mode="full", method="auto"):
    return signal.convolve(a, k, mode, method="direct")


def backend():
    return with_ops("scipy", "fft-is-direct", **{"scipy.signal.fftconvolve": direct_only})
