"""A GPU backend that declares TF32 but rounds its inputs to bf16 (8 significant bits, not 11)."""

from __future__ import annotations

from convspec.model.case import round_significand
from tests.gallery.twins._base import torch_conv
from tests.gallery.twins._cuda import cuda_like


def conv2d(x, w, b=None, **kw):
    return torch_conv(round_significand(x, 8), round_significand(w, 8), b, **kw)


def backend():
    return cuda_like("bf16-claims-tf32", conv2d, mode="tf32")
