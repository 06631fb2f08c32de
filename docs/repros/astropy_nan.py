"""astropy.convolution.convolve interpolates over a NaN instead of propagating it (library only).

scipy.signal.convolve2d (a direct sum) returns NaN at every output whose window covers the NaN;
astropy's default nan_treatment='interpolate' replaces the NaN by a kernel-weighted mean of its neighbours.
"""
import numpy as np
from astropy.convolution import convolve
from scipy import signal

a = np.array([[2.0, np.nan, 4.0]])
k = np.array([[1.0, 1.0, 1.0]])
full_a = np.pad(a, ((0, 0), (1, 1)))               # zero margin: the full convolution out of the 'same' one
observed = convolve(full_a, k, boundary="fill", fill_value=0, normalize_kernel=False)
expected = signal.convolve2d(a, k, "full")
print("observed:", observed.tolist())
print("expected:", expected.tolist())
print("departs:", not np.array_equal(np.isnan(observed), np.isnan(expected)))
