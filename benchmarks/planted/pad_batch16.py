"""Padded conv with a batch of 16 or more raises (a dispatch to a kernel that does not take padding).

Trigger (2 factors): padding > 0 AND N >= 16.
Source: replica of pytorch/pytorch#90142 (NNPACK: padded Conv1d with batch >= 16 raises)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-pad-batch16"
TRIGGER = ("padding>0", "N>=16")
SOURCE = "replica of pytorch/pytorch#90142 (NNPACK: padded Conv1d with batch >= 16 raises)"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x = np.asarray(x)
    if x.shape[0] >= 16 and any(v > 0 for lh in p for v in lh):
        raise RuntimeError("NNPACK SpatialConvolution_updateOutput failed")
    return _conv.done(_conv.conv2d_nc(x, w, b, s, p, d, int(groups)), x.dtype)
