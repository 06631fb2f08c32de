"""torch's conv2d whose batch elements after the first drift by a factor 1 + 1e-3."""

from __future__ import annotations

import numpy as np

from tests.gallery.twins._base import torch_conv, with_ops


def conv2d(x, w, b=None, **kw):
    y = torch_conv(x, w, b, **kw)
    y[1:] *= np.float32(1 + 1e-3)
    return y


def backend():
    return with_ops("torch", "conv-batch-drift", conv2d=conv2d)
