"""ndimage.convolve/correlate that round an integer input's result to nearest instead of truncating."""

from __future__ import annotations

from tests.gallery.twins._ndimage import nd_backend


def backend():
    return nd_backend("round")
