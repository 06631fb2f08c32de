"""Sums the input channels in a random order on every call (like atomics in a split-K kernel): each
result is within the error bound, but reruns differ in the last bits although it declares nothing
(so it is held to 'deterministic', the default)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402
import numpy as np  # noqa: E402

_RNG = np.random.default_rng()


def conv2d(x, w, b=None, *, groups=1, **kw):
    o, cg = w.shape[:2]
    og = o // groups
    y = None
    for c in _RNG.permutation(cg):                   # channel c of every group, in a random order
        xs = np.concatenate([x[:, g * cg + c:g * cg + c + 1] for g in range(groups)], axis=1)
        ws = w[:, c:c + 1]
        part = _base.conv2d(xs, ws, None, groups=groups, **kw) if og else None
        y = part if y is None else (y + part).astype(x.dtype)
    if b is not None:
        y = (y + b[None, :, None, None]).astype(x.dtype)
    return y
