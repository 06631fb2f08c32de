"""padding_mode='reflect' implemented as np.pad(mode='symmetric') (the edge repeated), in every rank."""

from __future__ import annotations

import numpy as np

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import numpy_with


def conv(x, w, b=None, *, padding_mode="zeros", padding=0, **kw):
    if padding_mode == "reflect":
        pads = nb.pad_pairs(padding, w.shape[2:], kw.get("dilation", 1))
        x = np.pad(x, ((0, 0), (0, 0), *pads), mode="symmetric")
        return nb.conv(x, w, b, padding=0, **kw)
    return nb.conv(x, w, b, padding=padding, padding_mode=padding_mode, **kw)


def backend():
    return numpy_with("reflect-as-symmetric", {"conv": conv})
