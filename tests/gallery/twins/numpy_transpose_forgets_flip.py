"""The transposed conv with the kernel not rotated, in every rank."""

from __future__ import annotations

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import numpy_with
from tests.gallery.twins._ranks import flip


def conv_transpose(x, w, b=None, **kw):
    return nb.conv_transpose(x, flip(w), b, **kw)


def backend():
    return numpy_with("transpose-forgets-flip", {"transpose": conv_transpose})
