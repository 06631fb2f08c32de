"""F.fold that doubles its result."""

from __future__ import annotations

import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def fold(cols, out, k, **kw):
    return 2 * TF.fold(cols, out, k, **kw)


def backend():
    return torch_with_F("fold-doubled", fold=fold)
