"""Padding pairs (before, after) read as (after, before), in every rank."""

from __future__ import annotations

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import numpy_with


def conv(x, w, b=None, *, padding=0, **kw):
    if isinstance(padding, (tuple, list)) and any(isinstance(p, (tuple, list)) for p in padding):
        padding = tuple((p[1], p[0]) if isinstance(p, (tuple, list)) else p for p in padding)
    return nb.conv(x, w, b, padding=padding, **kw)


def backend():
    return numpy_with("pairs-swapped", {"conv": conv})
