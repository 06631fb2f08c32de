"""F.conv_transpose{1,2,3}d that, in fp16/bf16, computes in float64 and rounds once."""

from __future__ import annotations

import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F

HALF = (torch.float16, torch.bfloat16)
TRANSPOSES = ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")

def rounded_once(name):
    op = getattr(TF, name)

    def f(x, w, b=None, **kw):
        if x.dtype not in HALF:
            return op(x, w, b, **kw)
        return op(x.double(), w.double(), None if b is None else b.double(), **kw).to(x.dtype)
    return f


def backend():
    return torch_with_F("transpose-rounded-once", **{n: rounded_once(n) for n in TRANSPOSES})
