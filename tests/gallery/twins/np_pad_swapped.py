"""np.pad with the modes 'reflect' and 'symmetric' swapped."""

from __future__ import annotations

import numpy as np

from tests.gallery.twins._base import with_ops


def np_pad(a, p, mode):
    mode = {"reflect": "symmetric", "symmetric": "reflect"}.get(mode, mode)
    return np.pad(a, p, mode=mode)


def backend():
    return with_ops("numpy", "np-pad-swapped", **{"np.pad": np_pad})
