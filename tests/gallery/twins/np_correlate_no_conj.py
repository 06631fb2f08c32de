"""np.correlate that does not conjugate its second argument."""

from __future__ import annotations

import numpy as np

from tests.gallery.twins._base import with_ops


def correlate(a, v, mode="valid"):
    return np.convolve(a, v[::-1], mode)


def backend():
    return with_ops("numpy", "np-correlate-no-conj", **{"np.correlate": correlate})
