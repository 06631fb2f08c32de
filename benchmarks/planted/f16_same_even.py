"""Half-precision 'same' path puts the extra padding element of an even kernel before instead of after (SAME_LOWER for SAME_UPPER).

Trigger (3 factors): dtype f16 AND padding='same' AND an even (dilated) kernel extent minus one being odd, i.e. an even kernel at dilation 1.
Source: planted (the ONNX auto_pad SAME_UPPER / SAME_LOWER split)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-f16-same-even"
TRIGGER = ("f16", "padding same", "even kernel")
SOURCE = "planted (the ONNX auto_pad SAME_UPPER / SAME_LOWER split)"
CAPABILITIES = dict(_conv.CONV_CAPS)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = _conv.args(x, w, stride, padding, dilation)
    x = np.asarray(x)
    if x.dtype == np.float16 and isinstance(padding, str) and padding == "same":
        p = tuple((hi, lo) for lo, hi in p)
    return _conv.done(_conv.conv2d_nc(x, w, b, s, p, d, int(groups)), x.dtype)
