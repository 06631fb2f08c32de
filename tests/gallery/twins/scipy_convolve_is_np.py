"""scipy.signal.convolve as np.convolve (whose 'same' has the longer argument's length)."""

from __future__ import annotations

import numpy as np

from tests.gallery.twins._base import with_ops


def backend():
    return with_ops("scipy", "scipy-convolve-is-np", **{"scipy.signal.convolve": np.convolve})
