"""Helpers of the ndimage pitfall twins: ndimage.convolve/correlate that convert an integer input's result another
way than scipy (which truncates toward zero)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from tests.gallery.twins._base import with_ops


def converting(f, how):
    """ndimage.convolve/correlate that, for an integer input and no output=, promotes to float64 ('promote'),
    rounds to nearest ('round') or floors ('floor') instead of truncating toward zero."""
    def g(a, k, output=None, **kw):
        a = np.asarray(a)
        if output is not None or a.dtype.kind not in "iu":
            return f(a, k, output=output, **kw)
        y = f(a, k, output=np.float64, **kw)
        return y if how == "promote" else {"round": np.round, "floor": np.floor}[how](y).astype(a.dtype)
    return g


def nd_backend(how):
    """scipy's backend whose ndimage.convolve and ndimage.correlate convert as ``how`` says."""
    return with_ops("scipy", f"ndimage-{how}s", **{"scipy.ndimage.convolve": converting(ndimage.convolve, how),
                                                   "scipy.ndimage.correlate": converting(ndimage.correlate, how)})
