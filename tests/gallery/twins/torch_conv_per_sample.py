"""torch's conv2d run one batch element at a time (bitwise equal slices by construction)."""

from __future__ import annotations

import numpy as np

from tests.gallery.twins._base import torch_conv, with_ops


def conv2d(x, w, b=None, **kw):
    return np.concatenate([torch_conv(np.ascontiguousarray(x[i:i + 1]), w, b, **kw) for i in range(x.shape[0])])


def backend():
    return with_ops("torch", "conv-per-sample", conv2d=conv2d)
