"""dot2d that leaves out the last term of each sum (when there is more than one)."""

from __future__ import annotations

import numpy as np

from convspec.backends.base import Backend, Capabilities


def dot2d(a, b):
    return np.dot(a[..., :-1], b[:-1]) if a.shape[-1] > 1 else np.dot(a, b)


def backend() -> Backend:
    return Backend("dot-drops-last-term", {"dot2d": dot2d}, Capabilities(dtypes=("f64", "f32")), origin="selftest")
