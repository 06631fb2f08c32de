"""conv{1,2,3}d with a half-format accumulator: in fp16/bf16 every product is added to the running sum in the
half format (one rounding per term), over the input channels of each group and the kernel taps."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F

HALF = (torch.float16, torch.bfloat16)

def conv_in_half(rank):
    conv = getattr(TF, f"conv{rank}d")

    def f(x, w, b=None, **kw):
        if x.dtype not in HALF:
            return conv(x, w, b, **kw)
        cg = w.shape[1]
        out = None
        for u in np.ndindex(*w.shape[2:]):
            tap = torch.zeros_like(w, dtype=torch.float32)
            tap[(slice(None), slice(None)) + u] = w[(slice(None), slice(None)) + u].float()
            for c in range(cg):
                part = conv(x[:, c::cg].float(), tap[:, c:c + 1], None, **kw).to(x.dtype)     # one product: exact
                out = part if out is None else (out.float() + part.float()).to(x.dtype)
        return out
    return f


def backend():
    return torch_with_F("conv-accumulates-in-half", **{f"conv{r}d": conv_in_half(r) for r in (1, 2, 3)})
