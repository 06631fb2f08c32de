"""Declares channels last (NHWC, like torch's channels_last users: OIHW weights) but moves its arrays to and
from channels first with reshape instead of transpose: the channels-last memory is read as if it were
channels first (C taken where H is), and the result written back the same way.  Right only when the
channel axis or the spatial extent is 1."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _nhwc  # noqa: E402

NAME = "nhwc-channel-axis-misread"
CAPABILITIES = {"layout": "NHWC", "dtypes": ["f64", "f32"], "padding_pairs": True}


def conv(x, w, b=None, **kw):
    n, *spatial, c = x.shape
    y = _nhwc.conv_nc(np.ascontiguousarray(x).reshape(n, c, *spatial), w, b, **kw)   # the bug: reshape
    n, o, *out = y.shape
    return y.reshape(n, *out, o)


conv1d = conv2d = conv3d = conv
