"""F.conv_transpose2d with the kernel rotated by 180 degrees."""

from __future__ import annotations

import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def conv_transpose2d(y, w, **kw):
    return TF.conv_transpose2d(y, torch.flip(w, (2, 3)), **kw)


def backend():
    return torch_with_F("conv-transpose-flipped", conv_transpose2d=conv_transpose2d)
