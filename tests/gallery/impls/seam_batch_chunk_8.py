"""Processes the batch in chunks of 8; the last partial chunk is computed from the previous chunk's
images (correct for N <= 8 and for multiples of 8)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

CHUNK = 8


def conv2d(x, w, b=None, **kw):
    y = _base.conv2d(x, w, b, **kw)
    n = x.shape[0]
    if n > CHUNK and n % CHUNK:
        start = (n // CHUNK) * CHUNK
        y[start:] = y[start - (n - start):start]
    return y
