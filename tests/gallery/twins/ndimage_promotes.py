"""ndimage.convolve/correlate that return float64 for an integer input instead of the input's type."""

from __future__ import annotations

from tests.gallery.twins._ndimage import nd_backend


def backend():
    return nd_backend("promote")
