"""Shared cropping for the imaging-library zoo backends (OpenCV, Pillow, pyvips, astropy, dask-image,
scikit-image, kornia).

These libraries return one output per input pixel ('same'-sized filters with a border rule); the
contract's signal ops (scipy.signal semantics) are full/same/valid.  Each adapter pads ``a`` with
explicit zeros so that the library computes every output of the *full* result away from its own border
rule, takes that full result out, and :func:`crop` selects the contract's mode from it -- the selection
only, never a change of the library's arithmetic.

The full 2-D correlation of ``a`` (M x N) with ``k`` (P x Q) is c[i, j] = sum_{u, v} k[u, v] a[i + u - P + 1,
j + v - Q + 1] (zero outside ``a``), of shape (M + P - 1, N + Q - 1); convolution is the same with
rot180(k).  scipy's 'same' takes M x N from row (P - 1) // 2 of the full convolution and P // 2 of the
full correlation; 'valid' takes |M - P| + 1 from row min(M, P) - 1 (either array may be the larger).
"""

from __future__ import annotations

import numpy as np


def crop(full, a_shape, k_shape, mode: str, correlate: bool):
    """The contract's ``mode`` out of the full result ``full`` (a fresh C-contiguous array)."""
    if mode == "full":
        out = full
    elif mode == "same":
        starts = [(q // 2 if correlate else (q - 1) // 2) for q in k_shape]
        out = full[tuple(slice(s, s + m) for s, m in zip(starts, a_shape))]
    elif mode == "valid":
        if not (all(m >= q for m, q in zip(a_shape, k_shape)) or all(q >= m for m, q in zip(a_shape, k_shape))):
            raise ValueError("mode='valid': one of a and k must be at least as large as the other in every dimension")
        starts = [min(m, q) - 1 for m, q in zip(a_shape, k_shape)]
        out = full[tuple(slice(s, s + abs(m - q) + 1) for s, m, q in zip(starts, a_shape, k_shape))]
    else:
        raise ValueError(f"mode must be 'full', 'same' or 'valid', not {mode!r}")
    return np.array(out, order="C", copy=True)


def check2d(a, k):
    """``a`` and ``k`` as 2-D arrays, or a ValueError naming the bad argument."""
    a, k = np.asarray(a), np.asarray(k)
    for name, v in (("a", a), ("k", k)):
        if v.ndim != 2:
            raise ValueError(f"{name} must be 2-D, not {v.ndim}-D of shape {v.shape}")
        if v.size == 0:
            raise ValueError(f"{name} must not be empty (shape {v.shape})")
    return a, k


def zero_pad(a, before, after=None):
    """``a`` with ``before``/``after`` (row, column) zeros on each side."""
    after = before if after is None else after
    return np.pad(a, ((before[0], after[0]), (before[1], after[1])))
