"""padding='same' with the extra element of an even kernel at the start (TF-style for odd totals), in
every rank."""

from __future__ import annotations

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import numpy_with


def conv(x, w, b=None, *, padding=0, dilation=1, **kw):
    if padding == "same":
        d = nb.ntuple(dilation, w.ndim - 2)
        tot = [dd * (k - 1) for k, dd in zip(w.shape[2:], d)]
        padding = tuple((t - t // 2, t // 2) for t in tot)
    return nb.conv(x, w, b, padding=padding, dilation=dilation, **kw)


def backend():
    return numpy_with("same-extra-at-start", {"conv": conv})
