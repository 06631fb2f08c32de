"""F.pad whose 'reflect' is np.pad's, which keeps reflecting once the pad reaches the size."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def pad(x, pad, mode="constant", value=None):
    if mode != "reflect":
        return TF.pad(x, pad, mode=mode) if value is None else TF.pad(x, pad, mode=mode, value=value)
    pairs = [tuple(pad[i:i + 2]) for i in range(0, len(pad), 2)][::-1]
    return torch.from_numpy(np.pad(x.numpy(), ((0, 0),) * (x.dim() - len(pairs)) + tuple(pairs), mode="reflect"))


def backend():
    return torch_with_F("pad-reflect-never-raises", pad=pad)
