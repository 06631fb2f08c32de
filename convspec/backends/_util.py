"""Helpers shared by the adapters: argument normalisation and scipy-semantics cropping."""

from __future__ import annotations

import numpy as np


def pair(v) -> tuple[int, int]:
    """An int or a pair -> a pair of ints."""
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def same_start(ksize: int, correlate: bool) -> int:
    """Where scipy's 'same' output starts inside the 'full' one: P//2 (correlate) or (P-1)//2 (convolve)."""
    return ksize // 2 if correlate else (ksize - 1) // 2


def crop(full, a_shape, k_shape, mode: str, correlate: bool):
    """Cut a full convolution/correlation down to scipy's 'same' or 'valid' window."""
    if mode == "full":
        return full
    if mode == "same":
        idx = tuple(slice(same_start(q, correlate), same_start(q, correlate) + m) for m, q in zip(a_shape, k_shape))
        return full[idx]
    if mode == "valid":
        if not (all(m >= q for m, q in zip(a_shape, k_shape)) or all(q >= m for m, q in zip(a_shape, k_shape))):
            raise ValueError("For 'valid' mode, one must be at least as large as the other in every dimension")
        idx = tuple(slice(min(m, q) - 1, max(m, q)) for m, q in zip(a_shape, k_shape))
        return full[idx]
    raise ValueError(f"mode must be 'full', 'same' or 'valid', not {mode!r}")


def ntuple(v, n: int, name: str = "value") -> tuple:
    """An int (numpy integers included) or a sequence of n ints -> a tuple of n ints."""
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"{name}={v!r}: expected an int or {n} ints")
        return tuple(int(t) for t in v)
    return (int(v),) * n


def pad_pairs(padding, kernel, dilation) -> tuple:
    """The contract's ``padding`` -> ((before, after), ...) per spatial axis: an int, one int per axis, one
    (before, after) pair per axis, 'valid', or 'same' (d (k - 1) in all, the extra element at the end)."""
    n = len(kernel)
    if isinstance(padding, str):
        d = ntuple(dilation, n, "dilation")
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            return tuple((dd * (k - 1) // 2, dd * (k - 1) - dd * (k - 1) // 2) for k, dd in zip(kernel, d))
        raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int or a tuple")
    if isinstance(padding, (tuple, list)):
        if len(padding) != n:
            raise ValueError(f"padding={padding!r}: expected an int, {n} ints or {n} (before, after) pairs")
        return tuple((int(p[0]), int(p[1])) if isinstance(p, (tuple, list)) else (int(p), int(p)) for p in padding)
    return ((int(padding), int(padding)),) * n


def torch_tensor(a):
    """A CPU torch tensor on the values of ``a`` (None stays None): zero-copy when C-contiguous and writeable,
    else a copy (torch rejects negative strides and warns on read-only arrays); an ``ml_dtypes.bfloat16`` array
    becomes a torch.bfloat16 tensor on the same 16 bits."""
    if a is None:
        return None
    import torch  # lazy: torch is an optional extra (about 3 s to import); numpy_backend imports this module too
    a = np.asarray(a)
    if not (a.flags.c_contiguous and a.flags.writeable):
        a = np.array(a, order="C", copy=True)
    if a.dtype.name == "bfloat16":
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


def transpose_params(w, stride, padding, output_padding, dilation) -> tuple:
    """(stride, padding, output_padding, dilation) of a transposed conv (or a gradient) as tuples of one int per
    spatial axis of ``w``; a (before, after) pair that is not symmetric raises (one padding per axis)."""
    r = np.ndim(w) - 2
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    pads = pad_pairs(padding, np.shape(w)[2:], d)
    if any(lo != hi for lo, hi in pads):
        raise ValueError(f"padding={padding!r}: a transposed conv takes one padding per axis")
    return s, tuple(lo for lo, _ in pads), ntuple(output_padding, r, "output_padding"), d
