"""np.convolve that promotes integers to int64 (numpy keeps the input's type and wraps)."""

from __future__ import annotations

import numpy as np

from tests.gallery.twins._base import with_ops


def convolve(a, v, mode="full"):
    return np.convolve(a.astype(np.int64), v.astype(np.int64), mode)


def backend():
    return with_ops("numpy", "np-convolve-promotes", **{"np.convolve": convolve})
