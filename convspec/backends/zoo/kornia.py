"""kornia as the contract's correlate2d, through ``kornia.filters.filter2d``.

``filter2d(input (B, C, H, W), kernel (B or 1, kH, kW), border_type, normalized, padding)`` pads the input
by ``border_type`` and runs a depthwise ``torch.nn.functional.conv2d``: a cross-correlation (no kernel
flip; measured: it equals scipy.signal.correlate2d, never convolve2d, on asymmetric kernels).  The
adapter passes border_type='constant' (zero fill) and normalized=False; 'same' and 'valid' (input at
least as large as the kernel) are kornia's own ``padding`` modes -- including its split of an even
kernel's padding, which the contract's 'same' checks against scipy's -- and 'full' (or a 'valid' whose
kernel is the larger) pads ``a`` with P - 1 / Q - 1 explicit zeros and crops kornia's 'valid' result
(:mod:`._imaging`).  kornia has no convolution op: convolve2d is not offered.
"""

import kornia
import numpy as np
import torch
from kornia.filters import filter2d

from convspec.backends.zoo._imaging import check2d, crop, zero_pad

NAME = "kornia"
__version__ = kornia.__version__
CAPABILITIES = {"dtypes": {"signal": ["f64", "f32"]}, "timeout": 60}


def _filter(a, k, padding):
    x = torch.from_numpy(np.ascontiguousarray(a))[None, None]
    w = torch.from_numpy(np.ascontiguousarray(k))[None]
    return filter2d(x, w, border_type="constant", normalized=False, padding=padding)[0, 0].numpy()


def correlate2d(a, k, mode="full"):
    """scipy.signal.correlate2d(a, k, mode) through kornia.filters.filter2d (real float data)."""
    a, k = check2d(a, k)
    if mode == "same" or (mode == "valid" and all(m >= q for m, q in zip(a.shape, k.shape))):
        return np.array(_filter(a, k, mode), order="C", copy=True)
    p, q = k.shape
    full = _filter(zero_pad(a, (p - 1, q - 1)), k, "valid")
    return crop(full, a.shape, k.shape, mode, correlate=True)
