"""conv3d that applies the height stride to the width and the width stride to the height."""

from __future__ import annotations

from convspec.backends import numpy_backend as nb
from tests.gallery.twins._base import with_ops


def conv3d(x, w, b=None, *, stride=1, **kw):
    s = stride if isinstance(stride, (tuple, list)) else (stride,) * 3
    return nb.conv3d(x, w, b, stride=(s[0], s[2], s[1]), **kw)


def backend():
    return with_ops("numpy", "conv3d-strides-swapped", conv3d=conv3d)
