"""A 1x1 fast path (a channel matmul) that forgets stride and padding."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    if w.shape[2] == w.shape[3] == 1 and groups == 1:
        y = np.einsum("nchw,oc->nohw", x, w[:, :, 0, 0])
        if b is not None:
            y = y + b[None, :, None, None]
        return y.astype(x.dtype)
    return _base.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
