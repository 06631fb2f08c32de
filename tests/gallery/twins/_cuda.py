"""Helpers of the CUDA claims' twins: a selftest backend shaped like a GPU backend, and CPU models of cuDNN (what the
H100 measured) that the cuDNN claims' twins get wrong on purpose (tests/unit/test_claims_cuda_models.py checks the
models themselves)."""

from __future__ import annotations

import numpy as np

from convspec.backends.base import Backend, Capabilities
from convspec.backends.tf32_backend import to_tf32
from tests.gallery.twins._base import torch_conv


def cuda_like(name, fn, mode=None, deterministic=True, **caps) -> Backend:
    """A selftest backend shaped like a CUDA backend (on a GPU, small limits) whose conv2d is ``fn``."""
    limits = dict(max_size=12, max_channels=4)
    limits.update(caps)
    return Backend(name, {"conv2d": fn}, Capabilities(dtypes=("f32", "f64"), mode=mode, deterministic=deterministic,
                                                      gpu=True, **limits), origin="selftest")


def _pairs(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def fft_conv_f32(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv2d through float32 FFTs (complex64 products): what cuDNN's FFT kernels compute.  Stride 1,
    dilation 1, groups 1 only (others go to the direct sum)."""
    if x.dtype != np.float32 or _pairs(stride) != (1, 1) or _pairs(dilation) != (1, 1) or groups != 1:
        return torch_conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    ph, pw = _pairs(padding)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    H, W = xp.shape[2] + kh - 1, xp.shape[3] + kw - 1
    X = np.fft.rfft2(xp, s=(H, W))
    K = np.fft.rfft2(np.ascontiguousarray(w[:, :, ::-1, ::-1]), s=(H, W))
    full = np.fft.irfft2(np.einsum("ncij,ocij->noij", X, K), s=(H, W))
    y = np.ascontiguousarray(full[:, :, kh - 1:xp.shape[2], kw - 1:xp.shape[3]]).astype(np.float32)
    return y if b is None else (y + b[None, :, None, None]).astype(np.float32)


def cudnn_model(tf32: bool, tc_channels=64, fft_kernel=5, tf32_everywhere=False, never_fft=False):
    """A CPU stand-in for torch on CUDA: TF32 input rounding only at tensor-core shapes (C/G and O/G
    >= ``tc_channels``) when ``tf32``, float32 FFT for kernels >= ``fft_kernel``, a direct float32 sum
    otherwise -- the behaviour measured on the H100."""

    def conv2d(x, w, b=None, **kw):
        g = kw.get("groups", 1)
        tc = x.shape[1] // g >= tc_channels and w.shape[0] // g >= tc_channels
        if x.dtype == np.float32 and tf32 and (tc or tf32_everywhere):
            return torch_conv(to_tf32(x), to_tf32(w), b, **kw)
        if not never_fft and min(w.shape[2:]) >= fft_kernel:
            return fft_conv_f32(x, w, b, **kw)
        return torch_conv(x, w, b, **kw)
    return conv2d


def cudnn_like(name, fn, tf32):
    """A factory of a selftest backend shaped like torch-cuda (fast class, on a GPU, cudnn.version), small limits
    that still admit the pinned 40x40 FFT shape and 64-channel tensor-core shapes of 8x8."""
    return lambda: Backend(name, {"conv2d": fn, "cudnn.version": lambda: 0},
                           Capabilities(dtypes=("f32",), mode="tf32" if tf32 else None, accuracy="fast", gpu=True,
                                        max_size=40, max_channels=64, max_batch=2, max_kernel=7, groups=False),
                           origin="selftest")
