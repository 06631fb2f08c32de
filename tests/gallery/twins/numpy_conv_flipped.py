"""True convolution instead of the CNN layer's cross-correlation (the kernel flipped), in every rank."""

from __future__ import annotations

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import numpy_with
from tests.gallery.twins._ranks import flip


def conv(x, w, b=None, **kw):
    return nb.conv(x, flip(w), b, **kw)


def backend():
    return numpy_with("conv-flipped", {"conv": conv})
