"""A cuDNN (CPU model) that never picks an FFT kernel: always direct."""

from __future__ import annotations

from tests.gallery.twins._cuda import cudnn_like, cudnn_model


def backend():
    return cudnn_like("cudnn-never-fft", cudnn_model(False, never_fft=True), False)()
