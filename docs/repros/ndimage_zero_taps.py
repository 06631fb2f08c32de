"""scipy.ndimage.correlate/convolve leave out every kernel tap whose magnitude is at most DBL_EPSILON (library only).

NI_Correlate (scipy/ndimage/src/ni_filters.c) builds its footprint from the weights with |w| > DBL_EPSILON, so
(1) a tap of exactly 2^-52 (DBL_EPSILON) is dropped: 2^-52 x 2^52 = 1 becomes 0, and (2) a zero tap never
multiplies its element: a NaN that only zero taps reach does not reach the output (the direct sum gives
0 x NaN = NaN there).  dask-image's ndfilters run scipy.ndimage on each block and inherit both.
"""
import numpy as np
from scipy import ndimage, signal

x, w = np.array([[2.0 ** 52]]), np.array([[2.0 ** -52]])
print("tap 2^-52 on 2^52, observed:", ndimage.convolve(x, w, mode="constant").tolist(),
      "expected:", signal.convolve2d(x, w, "full").tolist())

a = np.array([[np.nan, 2.0, 4.0]])
k = np.array([[1.0, 0.0, 1.0]])
observed = ndimage.convolve(np.pad(a, ((0, 0), (2, 2))), k, mode="constant", cval=0.0)[:, 1:6]
expected = signal.convolve2d(a, k, "full")
print("NaN under a zero tap, observed:", observed.tolist())
print("                      expected:", expected.tolist())
print("departs:", not np.array_equal(np.isnan(observed), np.isnan(expected)))
