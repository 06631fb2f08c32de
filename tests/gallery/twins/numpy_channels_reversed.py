"""Reads the input channels in reverse order, in every rank."""

from __future__ import annotations

import numpy as np

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import numpy_with


def conv(x, w, b=None, **kw):
    return nb.conv(np.ascontiguousarray(x[:, ::-1]), w, b, **kw)


def backend():
    return numpy_with("channels-reversed", {"conv": conv})
