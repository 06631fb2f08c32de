"""skimage.filters.correlate_sparse never multiplies by a zero tap, so a NaN that only zero taps reach does not
reach the output (library only).

It sums k[u, v] times a shifted view of the padded image over the non-zero taps (and the corner tap); the
direct sum (scipy.signal.correlate2d) gives 0 x NaN = NaN at every output whose window covers the NaN.
"""
import numpy as np
from scipy import signal
from skimage.filters import correlate_sparse

a = np.array([[2.0, np.nan, 4.0]])
k = np.array([[1.0, 0.0, 1.0]])
observed = correlate_sparse(np.pad(a, ((0, 0), (2, 2))), k, mode="valid")      # pre-padded: the full correlation
expected = signal.correlate2d(a, k, "full")
print("observed:", observed.tolist())
print("expected:", expected.tolist())
print("departs:", not np.array_equal(np.isnan(observed), np.isnan(expected)))
