"""scipy.signal.convolve that always sums directly, whatever ``method`` says (no FFT ever)."""

from __future__ import annotations

from tests.gallery.twins._base import with_ops
from tests.gallery.twins.fftconvolve_is_direct import direct_only


def backend():
    return with_ops("scipy", "convolve-direct-only", **{"scipy.signal.convolve": direct_only})
