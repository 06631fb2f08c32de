"""The half-precision conv op accumulating in the half format (f16) or rounding every partial sum to bf16."""

from __future__ import annotations

import numpy as np

from convspec.model.case import round_significand
from convspec.truth.reference import _taps, problem_of
from tests.gallery.twins._base import with_ops


def conv_half(x, w, dtype):
    p = problem_of(x, w)
    acc = np.float16 if dtype == "f16" else np.float32
    y = np.zeros(p.y_shape, dtype=acc)
    for u, v, win in _taps(x.astype(np.float32), p):
        y = (y.astype(np.float32) + np.einsum("nchw,oc->nohw", win, w[:, :, u, v].astype(np.float32))).astype(acc)
        if dtype == "bf16":
            y = round_significand(y, 8)
    return y.astype(np.float32)


def backend():
    return with_ops("torch", "half-acc16", **{"torch.conv_half": conv_half})
