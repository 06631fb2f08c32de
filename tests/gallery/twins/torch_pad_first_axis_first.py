"""F.pad reading its pairs in numpy's order (the first pair pads the first spatial axis)."""

from __future__ import annotations

import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def pad(x, pad, mode="constant", value=0.0):
    pairs = [pad[i:i + 2] for i in range(0, len(pad), 2)]
    return TF.pad(x, tuple(v for pr in reversed(pairs) for v in pr), mode=mode, value=value)


def backend():
    return torch_with_F("pad-first-axis-first", pad=pad)
