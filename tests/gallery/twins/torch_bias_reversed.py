"""F.conv{1,2,3}d whose bias is added to the output channels in reverse order."""

from __future__ import annotations

import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def bias_reversed(fn):
    def conv(x, w, b=None, **kw):
        y = fn(x, w, None, **kw)
        return y if b is None else y + b.flip(0).reshape((1, -1) + (1,) * (y.dim() - 2))
    return conv


def backend():
    return torch_with_F("bias-reversed", conv1d=bias_reversed(TF.conv1d), conv2d=bias_reversed(TF.conv2d),
                        conv3d=bias_reversed(TF.conv3d))
