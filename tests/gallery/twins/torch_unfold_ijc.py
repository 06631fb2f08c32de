"""F.unfold whose rows are ordered (i, j, c) instead of channel first (c, i, j)."""

from __future__ import annotations

import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def unfold(x, k, **kw):
    cols = TF.unfold(x, k, **kw)
    n, ckk, L = cols.shape
    kh, kw_ = k
    c = ckk // (kh * kw_)
    return cols.reshape(n, c, kh * kw_, L).transpose(1, 2).reshape(n, ckk, L)


def backend():
    return torch_with_F("unfold-ijc", unfold=unfold)
