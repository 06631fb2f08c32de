"""Half-precision grouped path reads group 0's weights for every group.

Trigger (2 factors): dtype f16 AND groups >= 2.
Source: replica of ROCm/rocm-libraries#4998 (fp16 Winograd wrong when groups > 1) and Tencent/TNN#845
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-f16-grouped"
TRIGGER = ("f16", "groups>=2")
SOURCE = "replica of ROCm/rocm-libraries#4998 (fp16 Winograd wrong when groups > 1) and Tencent/TNN#845"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x, w = np.asarray(x), np.asarray(w)
    if x.dtype == np.float16 and groups >= 2:
        og = w.shape[0] // groups
        w = np.concatenate([w[:og]] * int(groups))
    return _conv.done(_conv.conv2d_nc(x, w, b, s, p, d, int(groups)), x.dtype)
