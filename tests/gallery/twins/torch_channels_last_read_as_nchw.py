"""F.conv2d / F.conv3d whose kernel reads a channels-last input's memory as if it were contiguous (NCHW)."""

from __future__ import annotations

import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def conv(x, w, *a, **kw):
    fmt = torch.channels_last if x.ndim == 4 else torch.channels_last_3d
    if x.is_contiguous(memory_format=fmt) and not x.is_contiguous():
        x = torch.as_strided(x, x.shape, torch.empty(x.shape).stride())     # the same memory, read as NCHW
    return getattr(TF, f"conv{x.ndim - 2}d")(x, w, *a, **kw)


def backend():
    return torch_with_F("channels-last-read-as-nchw", conv2d=conv, conv3d=conv)
