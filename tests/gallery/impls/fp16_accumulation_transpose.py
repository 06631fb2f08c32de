"""The transposed convs (every rank) accumulate in float16: each kernel tap's contribution is rounded to
half precision and added into a float16 output (the data stay float32 or float64).  Correct when every
partial sum fits 11 bits; caught on integer data whose sums need more, and on the dyadic regime."""
import numpy as np


def _ntuple(v, n):
    return tuple(int(t) for t in v) if isinstance(v, (tuple, list)) else (int(v),) * n


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    r = w.ndim - 2
    s, p, op, d = (_ntuple(v, r) for v in (stride, padding, output_padding, dilation))
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    n, c, *L = x.shape
    _, og, *k = w.shape
    cg = c // groups
    out = [(li - 1) * si - 2 * pi + di * (ki - 1) + oi + 1 for li, si, pi, di, ki, oi in zip(L, s, p, d, k, op)]
    full = [max((li - 1) * si + di * (ki - 1) + 1, pi + o) for li, si, di, ki, pi, o in zip(L, s, d, k, p, out)]
    acc = np.zeros((n, og * groups, *full), dtype=np.float16)           # the bug: a half-precision accumulator
    for u in np.ndindex(*k):
        tgt = tuple(slice(ui * di, ui * di + (li - 1) * si + 1, si) for ui, di, li, si in zip(u, d, L, s))
        for g in range(groups):
            contrib = np.tensordot(x[:, g * cg:(g + 1) * cg], w[(slice(g * cg, (g + 1) * cg), slice(None)) + u],
                                   axes=([1], [0]))
            contrib = np.moveaxis(contrib, -1, 1).astype(np.float16)
            acc[(slice(None), slice(g * og, (g + 1) * og)) + tgt] += contrib
    y = acc[(slice(None), slice(None)) + tuple(slice(pi, pi + o) for pi, o in zip(p, out))].astype(x.dtype)
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * r).astype(x.dtype)
    return np.ascontiguousarray(y)


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose
