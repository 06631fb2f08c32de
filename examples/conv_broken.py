"""The broken twin of conv_correct.py: it flips the kernel (a convolution, where the CNN layer is a
cross-correlation).  The gate must reject it with a shrunk counterexample and a repro command.

    pytest --impl examples/conv_broken.py --backends none       # exits 1
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import conv_correct  # noqa: E402

NAME = "example"
CAPABILITIES = conv_correct.CAPABILITIES


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    return conv_correct.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups, _flip=True)
