"""A binding that ignores strides: it reads x from its data pointer in memory order, as if it were
C-contiguous (what a C kernel handed ``x.ctypes.data`` does).  Right for C-contiguous input only."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def _owner(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _as_if_contiguous(a):
    if a.flags.c_contiguous:
        return a
    start = a.__array_interface__["data"][0]
    if all(s > 0 for s in a.strides) and start + a.nbytes <= np.lib.array_utils.byte_bounds(_owner(a))[1]:
        # a.size elements from the first one on, in memory order (inside the owning buffer)
        return np.array(np.lib.stride_tricks.as_strided(a, shape=(a.size,), strides=(a.itemsize,))).reshape(a.shape)
    return np.ravel(a, order="K").reshape(a.shape)   # negative strides: the elements as they lie in memory


def conv2d(x, w, b=None, **kw):
    return _base.conv2d(_as_if_contiguous(x), w, b, **kw)
