"""astropy as the contract's convolve2d, through ``astropy.convolution.convolve``.

``convolve(array, kernel, boundary='fill', fill_value=0, normalize_kernel=False)`` is a direct
convolution (kernel flipped) with one output per array element, centred on the kernel's middle tap: it
refuses kernels with an even extent ("Kernel size must be odd in all axes"), a capability the lead words
as a signal-op kernel parity.  The adapter pads ``a`` with (P - 1) / 2 zeros per side, which with the zero
fill gives every output of the full convolution, and crops the contract's mode (:mod:`._imaging`).
nan_treatment stays astropy's default 'interpolate': NaNs in ``a`` are replaced by a kernel-weighted
average of their neighbours instead of spreading (a departure: claim
``signal-ops-propagate-nan`` of :mod:`convspec.specs.libraries.zoo_imaging`); with a zero-sum kernel and NaN data it
raises instead.  Integer data come back float64, so only f64/f32 are declared.  astropy offers no
correlation: correlate2d is not offered.  (``convolve_fft`` is the FFT variant, not wired.)
"""

import astropy
from astropy.convolution import convolve

from convspec.backends.zoo._imaging import check2d, crop, zero_pad

NAME = "astropy"
__version__ = astropy.__version__
CAPABILITIES = {"dtypes": {"signal": ["f64", "f32"]}, "kernel_parity": "odd", "timeout": 60}


def convolve2d(a, k, mode="full"):
    """scipy.signal.convolve2d(a, k, mode) through astropy.convolution.convolve (odd kernels)."""
    a, k = check2d(a, k)
    p, q = k.shape
    padded = zero_pad(a, ((p - 1) // 2, (q - 1) // 2))
    full = convolve(padded, k, boundary="fill", fill_value=0, normalize_kernel=False)
    return crop(full, a.shape, k.shape, mode, correlate=False)

DEPARTURES = {
    "signal-ops-propagate-nan": {
        "statement": "astropy.convolution.convolve's default nan_treatment='interpolate' replaces each NaN of the "
                     "array by the kernel-weighted mean of its finite neighbours, so no output is NaN where the "
                     "direct sum gives NaN (and with a zero-sum kernel and NaN data it raises instead)",
        "source": "https://docs.astropy.org/en/stable/api/astropy.convolution.convolve.html (nan_treatment)",
        "upstream": "none found: documented behaviour (nan_treatment='interpolate' is the default)",
        "observed": "[[2.0, 3.0, 9.0, 6.0, 4.0]] (full, a=[[2, nan, 4]], k=[[1, 1, 1]])",
        "expected": "[[2.0, nan, nan, nan, 4.0]]",
        "counterexample": "a1x1_k1x3_full_f64_int with a = [[nan]] (the search's: NaN at [], expected at [[0, 0], [0, 1], [0, 2]])",
        "repro": "docs/repros/astropy_nan.py",
    },
}
