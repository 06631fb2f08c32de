"""dask-image as the contract's signal ops, through ``dask_image.ndfilters.convolve`` and ``correlate`` on a
chunked dask array.

What dask-image adds beyond ``scipy.ndimage`` is the chunking: the image is cut into blocks, each block is
extended by the kernel's half-width from its neighbours (``dask.array.map_overlap``) and filtered by
scipy.ndimage, and the blocks are stitched back.  The adapter cuts the array into blocks of
:data:`CHUNK` x :data:`CHUNK` (smaller than most kernels the audit draws), so nearly every output's window
crosses a seam between blocks, and computes with dask's synchronous scheduler.

ndimage's correlate puts tap u of a P-tap kernel on element t + u - P // 2 (``origin=0``); its convolve
flips the kernel and, for an even extent, moves the centre one element (scipy's ``_correlate_or_convolve``),
so its tap u reads t - u + (P - 1) // 2.  The adapter pads ``a`` with P - 1 / Q - 1 zeros on every side
(mode='constant', cval=0 then adds only zeros), so the outputs from row P // 2 (correlate) or (P - 1) // 2
(convolve) are the full result, and crops the contract's mode (:mod:`._imaging`).  ndimage accumulates in
float64 and rounds once to the input's dtype; f64 and f32 are declared (integer inputs come back in their
own dtype, truncated).
"""

import importlib.metadata

import dask.array as da
import numpy as np
from dask_image import ndfilters

from convspec.backends.zoo._imaging import check2d, crop, zero_pad

LIBRARY = "dask-image"
NAME = "dask-image"
__version__ = importlib.metadata.version("dask-image")
CAPABILITIES = {"dtypes": {"signal": ["f64", "f32"]}, "timeout": 60}
CHUNK = 3            # block edge: small, so that windows cross the seams between blocks


def _full(a, k, correlate: bool):
    a, k = check2d(a, k)
    p, q = k.shape
    padded = da.from_array(zero_pad(a, (p - 1, q - 1)), chunks=(CHUNK, CHUNK))
    fn = ndfilters.correlate if correlate else ndfilters.convolve
    out = np.asarray(fn(padded, k, mode="constant", cval=0.0).compute(scheduler="synchronous"))
    r0, c0 = (p // 2, q // 2) if correlate else ((p - 1) // 2, (q - 1) // 2)
    return out[r0:r0 + a.shape[0] + p - 1, c0:c0 + a.shape[1] + q - 1], a, k


def correlate2d(a, k, mode="full"):
    """scipy.signal.correlate2d(a, k, mode) through dask_image.ndfilters.correlate (blocks of CHUNK)."""
    full, a, k = _full(a, k, correlate=True)
    return crop(full, a.shape, k.shape, mode, correlate=True)


def convolve2d(a, k, mode="full"):
    """scipy.signal.convolve2d(a, k, mode) through dask_image.ndfilters.convolve (blocks of CHUNK)."""
    full, a, k = _full(a, k, correlate=False)
    return crop(full, a.shape, k.shape, mode, correlate=False)

DEPARTURES = {   # a literal dict (read with ast.literal_eval by convspec.reporting.findings, never by importing)
    "convolve2d-matches-definition": {
        "statement": "dask_image.ndfilters run scipy.ndimage.convolve/correlate on each block, and scipy.ndimage "
                     "leaves out every kernel tap with |w| <= DBL_EPSILON (NI_Correlate in "
                     "scipy/ndimage/src/ni_filters.c builds its footprint from the weights with fabs(w) > "
                     "DBL_EPSILON): a tap of 2^-52 on 2^52 gives 0 instead of 1, and a NaN that only zero taps "
                     "reach does not reach the output (the direct sum gives 0 x NaN = NaN there)",
        "source": "found by convspec",
        "upstream": "none found: searched scipy/scipy issues for 'ndimage correlate DBL_EPSILON', 'ndimage convolve "
                    "small weights ignored', 'ndimage convolve nan zero weight'; closest scipy/scipy#23785 "
                    "(open; the weights parameter's documentation, which does not mention it)",
        "observed": "[[0.0]] (full, a = [[2^52]], k = [[2^-52]]); [[nan, 2.0, nan, 2.0, 4.0]] (a = [[nan, 2, 4]], "
                    "k = [[1, 0, 1]])",
        "expected": "[[1.0]]; [[nan, nan, nan, 2.0, 4.0]]",
        "counterexample": "a1x1_k1x1_full_f64_dya",
        "data": {"a": [[4503599627370496.0]], "k": [[2.220446049250313e-16]]},
        "repro": "docs/repros/ndimage_zero_taps.py",
    },
    "correlate2d-matches-definition": "convolve2d-matches-definition",
    "convolve2d-crosses-seams": "convolve2d-matches-definition",
    "correlate2d-crosses-seams": "convolve2d-matches-definition",
    "convolve2d-accepts-every-layout": "convolve2d-matches-definition",
    "correlate2d-accepts-every-layout": "convolve2d-matches-definition",
    "signal-ops-propagate-nan": "convolve2d-matches-definition",
}
