"""dot2d as the elementwise product (no sum): the twin of the dot-product claims of the seed thread."""

from __future__ import annotations

import numpy as np

from convspec.backends.base import Backend, Capabilities


def backend() -> Backend:
    return Backend("dot-elementwise", {"dot2d": lambda a, b: np.multiply(a, b)}, Capabilities(dtypes=("f64", "f32")),
                   origin="selftest")
