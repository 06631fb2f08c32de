"""scipy.signal.correlate2d(a, k, 'valid') conjugates its result for complex data when k is the larger input.

Library only (no convspec).  Expected (the definition, scipy.signal.correlate, and correlate2d's own 'full'
result restricted to the valid window): sum of a[i+u] * conj(k[u]) = [[0, -1j]].  Found by convspec on scipy 1.17.1.
"""
import numpy as np
import scipy
from scipy import signal

a = np.array([[1 + 0j]])
k = np.array([[1j, 0]])
observed = signal.correlate2d(a, k, mode="valid")
expected = signal.correlate(a, k, mode="valid")
print("scipy", scipy.__version__)
print("correlate2d(a, k, 'valid'):", observed.tolist())
print("correlate(a, k, 'valid')  :", expected.tolist())
print("correlate2d(a, k, 'full') :", signal.correlate2d(a, k, mode="full").tolist())
print("departure" if not np.array_equal(observed, expected) else "agrees")
