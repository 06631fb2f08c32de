"""conv_transpose2d with the rule proposed in pytorch/pytorch#8826: output_padding must lie below the
stride, whatever the dilation."""

from __future__ import annotations

import torch.nn.functional as TF
from convspec.specs.libraries import pitfalls as PF

from tests.gallery.twins._base import torch_with_F


def _tup(v, r):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * r


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    if any(o >= s for o, s in zip(_tup(output_padding, 2), _tup(stride, 2))):
        raise RuntimeError(PF.OP_ERROR + " (here: the stride alone)")
    return TF.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                               dilation=dilation)


def backend():
    return torch_with_F("op-below-stride", conv_transpose2d=conv_transpose2d)
