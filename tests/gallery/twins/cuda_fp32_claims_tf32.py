"""A GPU backend that declares TF32 but computes in full fp32 (no input rounding at all)."""

from __future__ import annotations

from tests.gallery.twins._base import torch_conv
from tests.gallery.twins._cuda import cuda_like


def backend():
    return cuda_like("fp32-claims-tf32", torch_conv, mode="tf32")
