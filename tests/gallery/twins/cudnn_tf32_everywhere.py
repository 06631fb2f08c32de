"""A cuDNN (CPU model) that rounds to TF32 at every shape, tensor-core shape or not."""

from __future__ import annotations

from tests.gallery.twins._cuda import cudnn_like, cudnn_model


def backend():
    return cudnn_like("cudnn-tf32-everywhere", cudnn_model(True, tf32_everywhere=True), True)()
