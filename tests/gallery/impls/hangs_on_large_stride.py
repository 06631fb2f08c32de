"""Spins forever when the stride exceeds the kernel (a loop whose step is never taken)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

CAPABILITIES = {"timeout": 2}


def conv2d(x, w, b=None, *, stride=1, **kw):
    sh, sw = _base.pair(stride)
    i = 0
    while sh > w.shape[2]:
        i += 0
    return _base.conv2d(x, w, b, stride=stride, **kw)
