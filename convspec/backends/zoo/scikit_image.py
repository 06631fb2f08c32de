"""scikit-image as the contract's signal ops, through ``skimage.filters.correlate_sparse``.

scikit-image's other filters call ``scipy.ndimage`` (``skimage.filters.edges`` imports its ``convolve``);
``correlate_sparse`` is its own code, written for kernels with few non-zero taps: for each non-zero tap
(u, v) it adds k[u, v] times the shifted view of the padded image, c[i, j] = sum_{(u, v): k[u, v] != 0}
k[u, v] a_pad[i + u, j + v] (the corner tap (0, 0) always, with its value or 0).  With ``mode='valid'``
the image is taken as already padded.  The adapter pads ``a`` with P - 1 / Q - 1 zeros on every side, so
the valid correlation of the padded array is the full correlation, and crops the contract's mode
(:mod:`._imaging`).  scikit-image offers no convolution; ``convolve2d`` here is the correlation with the
kernel rotated by 180 degrees, the flip done by the adapter (as OpenCV's documentation prescribes for its
filter2D).  Data are cast to the float type scikit-image supports (f32 stays f32, f64 stays f64).

The taps it skips are where it departs: 0 x NaN is NaN in the direct sum, but a zero tap is never
multiplied here, so a NaN that only a zero tap reaches does not reach the output (claim
``signal-ops-propagate-nan``).  Nor is it the sparse reading (``zero_taps: "skip"``): the corner tap is
multiplied even when it is zero.
"""

import numpy as np
import skimage
from skimage.filters import correlate_sparse

from convspec.backends.zoo._imaging import check2d, crop, zero_pad

LIBRARY = "scikit-image"
NAME = "scikit-image"
__version__ = skimage.__version__
CAPABILITIES = {"dtypes": {"signal": ["f64", "f32"]}, "timeout": 60}


def _full_correlation(a, k):
    a, k = check2d(a, k)
    p, q = k.shape
    return correlate_sparse(zero_pad(a, (p - 1, q - 1)), k, mode="valid"), a, k


def correlate2d(a, k, mode="full"):
    """scipy.signal.correlate2d(a, k, mode) through skimage.filters.correlate_sparse (mode 'valid', pre-padded)."""
    full, a, k = _full_correlation(a, k)
    return crop(full, a.shape, k.shape, mode, correlate=True)


def convolve2d(a, k, mode="full"):
    """scipy.signal.convolve2d(a, k, mode): correlate_sparse with the kernel rotated 180 degrees."""
    a, k = check2d(a, k)
    full, a, k = _full_correlation(a, np.ascontiguousarray(k[::-1, ::-1]))
    return crop(full, a.shape, k.shape, mode, correlate=False)

DEPARTURES = {   # a literal dict (read with ast.literal_eval by convspec.reporting.findings, never by importing)
    "signal-ops-propagate-nan": {
        "statement": "skimage.filters.correlate_sparse multiplies only the non-zero taps (and the corner tap), so a "
                     "NaN of the image that only zero taps reach does not reach the output: it gives a finite "
                     "value where the direct sum gives 0 x NaN = NaN (skimage/filters/_sparse.py sums over "
                     "np.nonzero(kernel), by design: it is written for kernels with many zeros).  It does not "
                     "follow the sparse reading either (capability zero_taps: 'skip'): the corner tap (0, 0) is "
                     "always multiplied, zero or not, so a = [[nan]], k = [[0, 1, 0]] gives NaN at the corner's "
                     "output",
        "source": "found by convspec",
        "upstream": "none found: searched scikit-image issues for 'correlate_sparse nan', 'correlate_sparse zero "
                    "kernel nan'; closest scikit-image/scikit-image#4912 (the PR that introduced it, for speed)",
        "observed": "[[nan, 2.0, nan, 2.0, 4.0]] (full, a = [[nan, 2, 4]], k = [[1, 0, 1]])",
        "expected": "[[nan, nan, nan, 2.0, 4.0]]",
        "counterexample": "a1x3_k1x3_full_f64_int with a = [[nan, 2, 4]], k = [[1, 0, 1]]",
        "repro": "docs/repros/skimage_correlate_sparse_nan.py",
    },
}
