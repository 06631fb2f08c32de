"""The extra output rows of output_padding added at the start instead of the end, in every rank."""

from __future__ import annotations

import numpy as np

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import numpy_with


def conv_transpose(x, w, b=None, *, output_padding=0, **kw):
    y = nb.conv_transpose(x, w, b, output_padding=output_padding, **kw)
    op = nb.ntuple(output_padding, w.ndim - 2)
    return np.ascontiguousarray(np.roll(y, shift=op, axis=tuple(range(2, y.ndim))))


def backend():
    return numpy_with("transpose-op-wrong-side", {"transpose": conv_transpose})
