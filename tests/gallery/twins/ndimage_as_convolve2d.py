"""ndimage.convolve as convolve2d's 'same' (whatever the mode), on scipy's backend."""

from __future__ import annotations

from scipy import signal

from tests.gallery.twins._base import with_ops


def backend():
    return with_ops("scipy", "ndimage-as-convolve2d", **{
        "scipy.ndimage.convolve": lambda a, k, mode="reflect", cval=0.0: signal.convolve2d(a, k, "same")})
