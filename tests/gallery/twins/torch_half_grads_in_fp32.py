"""F.conv{1,2,3}d that computes half-precision inputs in float32 and rounds the result once (so its autograd
gradients accumulate in fp32 and round once too)."""

from __future__ import annotations

import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def fp32_then_round(fn):
    def conv(x, w, b=None, **kw):
        if x.dtype in (torch.float16, torch.bfloat16):
            return fn(x.float(), w.float(), None if b is None else b.float(), **kw).to(x.dtype)
        return fn(x, w, b, **kw)
    return conv


def backend():
    return torch_with_F("half-grads-in-fp32", conv1d=fp32_then_round(TF.conv1d), conv2d=fp32_then_round(TF.conv2d),
                        conv3d=fp32_then_round(TF.conv3d))
