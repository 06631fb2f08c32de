"""OpenCV (opencv-python-headless) as the contract's signal ops, through ``cv2.filter2D``.

``cv2.filter2D(src, ddepth, kernel, anchor, delta, borderType)`` computes the correlation
dst(x, y) = sum_{u, v} kernel(u, v) src(x + v - anchor.x, y + u - anchor.y) (OpenCV's documentation: "the
function does actually compute correlation, not the convolution"; for a convolution it says to flip the
kernel with ``cv2.flip`` and move the anchor).  The adapter pads ``a`` with P - 1 / Q - 1 zeros on every side
(``cv2.copyMakeBorder``, BORDER_CONSTANT), filters with anchor (0, 0) and BORDER_CONSTANT -- every output
of the full correlation -- and crops the contract's mode (:mod:`._imaging`).  ``convolve2d`` flips the
kernel first (``cv2.flip(k, -1)``), as OpenCV's documentation prescribes.

Departures of use (not of this adapter): the default anchor (-1, -1) is the kernel's centre (P // 2, Q // 2),
which for an even kernel is one row/column away from scipy's correlate2d 'same' ((P - 1) // 2): see
claim ``opencv-default-anchor-equals-correlate2d-same`` in :mod:`convspec.specs.libraries.zoo_imaging`.
filter2D switches to a DFT when the kernel area reaches a threshold (50 taps, 130 for float32 data with
SSE3), so accuracy is declared "fast" (normwise bound).  Depths: uint8, uint16, int16, float32, float64
(int8, int32, int64, float16 raise); integer results are rounded and saturated.
"""

import cv2
import numpy as np

from convspec.backends.zoo._imaging import check2d, crop

NAME = "opencv"
__version__ = cv2.__version__
CAPABILITIES = {"dtypes": {"signal": ["f64", "f32", "i16"]}, "accuracy": "fast", "timeout": 60}


def _full_correlation(a, k):
    a, k = check2d(a, k)
    p, q = k.shape
    src = np.ascontiguousarray(a)
    kern = np.ascontiguousarray(k if k.dtype.kind == "f" else k.astype(np.float32))
    padded = cv2.copyMakeBorder(src, p - 1, p - 1, q - 1, q - 1, cv2.BORDER_CONSTANT, value=0)
    out = cv2.filter2D(padded, -1, kern, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    return out[:a.shape[0] + p - 1, :a.shape[1] + q - 1], a, k


def correlate2d(a, k, mode="full"):
    """scipy.signal.correlate2d(a, k, mode) through cv2.filter2D (real data)."""
    full, a, k = _full_correlation(a, k)
    return crop(full, a.shape, k.shape, mode, correlate=True)


def convolve2d(a, k, mode="full"):
    """scipy.signal.convolve2d(a, k, mode): filter2D with the kernel flipped by cv2.flip(k, -1)."""
    a, k = check2d(a, k)
    full, a, k = _full_correlation(a, cv2.flip(np.ascontiguousarray(k), -1))
    return crop(full, a.shape, k.shape, mode, correlate=False)
