"""dot2d as the sum of all elementwise products (a scalar, not the matrix product)."""

from __future__ import annotations

import numpy as np

from convspec.backends.base import Backend, Capabilities


def backend() -> Backend:
    return Backend("dot-returns-sum", {"dot2d": lambda a, b: np.sum(np.multiply(a, b))},
                   Capabilities(dtypes=("f64", "f32")), origin="selftest")
