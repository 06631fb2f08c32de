"""The input gradient as the transposed conv with the kernel not rotated by 180 degrees, in every rank."""

from __future__ import annotations

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import numpy_with
from tests.gallery.twins._ranks import flip


def conv_input(input_shape, w, grad_out, **kw):
    return nb.conv_input(input_shape, flip(w), grad_out, **kw)


def backend():
    return numpy_with("input-grad-forgets-flip", {"input": conv_input})
