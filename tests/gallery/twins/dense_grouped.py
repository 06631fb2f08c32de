"""Wrong on purpose: the groups as one dense conv whose kernel is zero off the group blocks (0 * NaN = NaN
leaks across groups), the way XLA's CPU float64 path computes them (torch's conv{1,2,3}d otherwise)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from convspec.backends import _util
from convspec.backends import registry as backends
from convspec.backends.base import Backend


def dense_grouped(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    g = int(groups)
    w = np.asarray(w)
    o, cg = w.shape[:2]
    dense = np.zeros((o, cg * g) + w.shape[2:], w.dtype)
    for i in range(g):
        dense[i * (o // g):(i + 1) * (o // g), i * cg:(i + 1) * cg] = w[i * (o // g):(i + 1) * (o // g)]
    r = np.ndim(x) - 2
    fn = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}[r]
    pads = _util.pad_pairs(padding, w.shape[2:], dilation) if not isinstance(padding, str) else None
    xt = torch.from_numpy(np.ascontiguousarray(x))
    flat = [v for lo, hi in reversed(pads) for v in (lo, hi)]
    y = fn(TF.pad(xt, flat), torch.from_numpy(dense), None if b is None else torch.from_numpy(np.asarray(b)),
           stride=stride, dilation=dilation)
    return y.numpy().copy()


def backend() -> Backend:
    t = backends.get("torch")
    return Backend("dense-grouped", {**t.ops, "conv1d": dense_grouped, "conv2d": dense_grouped,
                                     "conv3d": dense_grouped}, t.caps, origin="selftest")
