"""conv{1,2,3}d whose padding='same' is TensorFlow's SAME at every stride (never raises)."""

from __future__ import annotations

import torch.nn.functional as TF
from convspec.specs.libraries import pitfalls as PF

from tests.gallery.twins._base import torch_with_F


def _tup(v, r):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * r


def same_any_stride(rank):
    """conv{rank}d whose padding='same' is TensorFlow's SAME at every stride."""
    conv = getattr(TF, f"conv{rank}d")

    def f(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        if padding != "same":
            return conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        pairs = [PF.tf_same_pads(L, k, s, d) for L, k, s, d in zip(x.shape[2:], w.shape[2:], _tup(stride, rank),
                                                                   _tup(dilation, rank))]
        return conv(TF.pad(x, tuple(v for pr in reversed(pairs) for v in pr)), w, b, stride=stride, dilation=dilation,
                    groups=groups)
    return f


def backend():
    return torch_with_F("same-any-stride", **{f"conv{r}d": same_any_stride(r) for r in (1, 2, 3)})
