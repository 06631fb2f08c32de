"""conv1d that ignores the dilation (numpy's backend otherwise)."""

from __future__ import annotations

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import with_ops


def conv1d(x, w, b=None, *, dilation=1, **kw):
    return nb.conv1d(x, w, b, **kw)


def backend():
    return with_ops("numpy", "conv1d-ignores-dilation", conv1d=conv1d)
