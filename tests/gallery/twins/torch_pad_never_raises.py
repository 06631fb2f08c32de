"""F.pad whose 'reflect' is np.pad's (it never raises for a pad at or above the size)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def pad(x, pad, mode="constant", value=None):
    if mode == "reflect":
        p = pad[0]
        return torch.from_numpy(np.pad(x.numpy(), ((0, 0), (0, 0), (p, p), (p, p)), mode="reflect"))
    return TF.pad(x, pad, mode=mode)


def backend():
    return torch_with_F("pad-never-raises", pad=pad)
