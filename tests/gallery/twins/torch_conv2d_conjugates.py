"""F.conv2d that conjugates its (complex) weight."""

from __future__ import annotations

import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def conv2d(x, w, *a, **k):
    return TF.conv2d(x, torch.conj(w).resolve_conj(), *a, **k)


def backend():
    return torch_with_F("conv2d-conjugates", conv2d=conv2d)
