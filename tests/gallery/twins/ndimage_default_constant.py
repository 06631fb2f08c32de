"""ndimage.convolve whose default mode is 'constant' (scipy's is 'reflect')."""

from __future__ import annotations

from scipy import ndimage

from tests.gallery.twins._base import with_ops


def backend():
    return with_ops("scipy", "ndimage-default-constant", **{
        "scipy.ndimage.convolve": lambda a, k, mode="constant", cval=0.0: ndimage.convolve(a, k, mode=mode, cval=cval)})
