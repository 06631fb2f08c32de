"""The weight gradient of the first batch element only, in every rank."""

from __future__ import annotations

import numpy as np

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import numpy_with


def conv_weight(x, weight_shape, grad_out, **kw):
    return nb.conv_weight(np.ascontiguousarray(x[:1]), weight_shape, np.ascontiguousarray(grad_out[:1]), **kw)


def backend():
    return numpy_with("weight-batch-not-summed", {"weight": conv_weight})
