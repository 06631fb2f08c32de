"""A GPU backend declared deterministic that sums the channels in a random order each call (like atomics
in a split-K kernel)."""

from __future__ import annotations

import numpy as np

from tests.gallery.twins._base import torch_conv
from tests.gallery.twins._cuda import cuda_like

_RNG = np.random.default_rng(7)


def conv2d(x, w, b=None, **kw):
    perm = _RNG.permutation(x.shape[1]) if kw.get("groups", 1) == 1 else np.arange(x.shape[1])
    y = np.zeros(1)
    for k, c in enumerate(perm):
        part = torch_conv(np.ascontiguousarray(x[:, c:c + 1]), np.ascontiguousarray(w[:, c:c + 1]), None, **kw)
        y = part if k == 0 else (y + part).astype(x.dtype)
    if kw.get("groups", 1) != 1:
        y = torch_conv(x, w, None, **kw)
    return y if b is None else (y + b[None, :, None, None]).astype(x.dtype)


def backend():
    return cuda_like("random-order-sum", conv2d)
