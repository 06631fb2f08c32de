"""Pillow as the contract's convolve2d, through ``ImageFilter.Kernel`` on 32-bit integer ('I') images.

``ImageFilter.Kernel(size, kernel, scale, offset)`` takes a 3x3 or 5x5 sequence of weights (Pillow calls it
a convolution kernel), computes each interior pixel as sum(weights * window) / scale + offset, rounds to
the nearest integer and clips to the image mode's range; the one- or two-pixel frame of the output is the
input copied unchanged.  Pillow filters 'L'/'RGB' (uint8) and 'I'/'I;16' images; 'F' (float) raises
"image has wrong mode".  The contract has no uint8, so the adapter uses 'I' (int32) images, scale 1,
offset 0, on int32 data: small integer data stay exact, negatives included.

The adapter embeds the P x Q kernel (P, Q <= 5) in the middle of a 3x3 (both extents <= 3) or 5x5 zero
kernel -- explicit zeros, the minimum that makes every kernel size a Pillow kernel -- pads ``a`` with 5 zeros
per side (Pillow's copied frame never reaches the full result), and crops (:mod:`._imaging`).
Measured: Pillow applies the weight sequence with its rows reversed -- a correlation with the kernel
flipped upside down, i.e. neither scipy's convolve2d (both axes flipped) nor correlate2d (none): see
DEPARTURES.
"""

import numpy as np
import PIL
from PIL import Image, ImageFilter

from convspec.backends.zoo._imaging import check2d, crop, zero_pad

NAME = "pillow"
__version__ = PIL.__version__
CAPABILITIES = {"dtypes": {"signal": ["i32"]}, "max_kernel": 5, "timeout": 60}
_PAD = 5


def convolve2d(a, k, mode="full"):
    """scipy.signal.convolve2d(a, k, mode) as Pillow's Kernel filter (int32 data, kernels up to 5x5)."""
    a, k = check2d(a, k)
    if a.dtype != np.int32:
        raise ValueError(f"a must be int32 (Pillow 'I' images), not {a.dtype}")
    p, q = k.shape
    if max(p, q) > 5:
        raise ValueError(f"k must be at most 5x5 (Pillow kernels are 3x3 or 5x5), not {k.shape}")
    size = 3 if max(p, q) <= 3 else 5
    off = ((size - p) // 2, (size - q) // 2)
    kk = np.zeros((size, size))
    kk[off[0]:off[0] + p, off[1]:off[1] + q] = k
    img = Image.fromarray(np.ascontiguousarray(zero_pad(a, (_PAD, _PAD))))
    out = np.asarray(img.filter(ImageFilter.Kernel((size, size), kk.ravel().tolist(), scale=1, offset=0)))
    # Pillow's documented reading: y[j] = sum_t kk[t] x[j + h - t] (convolution about the centre h), so the
    # full convolution c[i] = sum_u k[u] a[i - u] sits at j = i + PAD + off - h on each axis
    h = size // 2
    r0, c0 = _PAD + off[0] - h, _PAD + off[1] - h
    full = out[r0:r0 + a.shape[0] + p - 1, c0:c0 + a.shape[1] + q - 1]
    return crop(full, a.shape, k.shape, mode, correlate=False)

DEPARTURES = {
    "asymmetric-filter-example": {
        "statement": "ImageFilter.Kernel applies the weight sequence with its rows reversed: the impulse response "
                     "is the kernel flipped left-right (a correlation with the kernel flipped upside down), not "
                     "the kernel (convolution); on 'I' images negative sums are also clipped to 0",
        "source": "found by convspec",
        "upstream": "none found: searched python-pillow/Pillow issues for 'ImageFilter.Kernel flipped', "
                    "'Kernel orientation convolution correlation'",
        "observed": "3 at [0, 0] (valid)", "expected": "4",
        "counterexample": "a3x3_k3x3_valid_i32_int a=[[1,1,1],[0,1,1],[0,0,1]] k=[[1,0,0],[0,1,0],[1,0,1]]",
        "repro": "docs/repros/pillow_kernel.py",
    },
    "full-convolution-commutes": {
        "statement": "Pillow kernels are 3x3 or 5x5 only: swapping the arrays makes the larger one the kernel, "
                     "which Pillow cannot take (ImageFilter.Kernel raises for other sizes)",
        "source": "https://pillow.readthedocs.io/en/stable/reference/ImageFilter.html#PIL.ImageFilter.Kernel",
        "upstream": "none found: documented limit (size must be (3, 3) or (5, 5))",
        "observed": "raises (kernel (1, 6))", "expected": "convolve2d(k, a) == convolve2d(a, k)",
        "counterexample": "a1x6_k1x1_full_i32_int",
        "repro": "docs/repros/pillow_kernel.py",
    },
    "symmetric-filter-conv-is-elementwise-sum": "asymmetric-filter-example",
    "convolve2d-matches-definition": "asymmetric-filter-example",
    "convolve2d-crosses-seams": "asymmetric-filter-example",
    "convolve2d-accepts-every-layout": "asymmetric-filter-example",
}
