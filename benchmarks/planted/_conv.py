"""The correct numpy conv2d and signal ops every planted bug starts from (not an implementation under test).

conv2d (channels first, torch's weight order (O, C/G, kh, kw)), E = d (k - 1) + 1 per axis:

    y[n, o, i, j] = b[o] + sum_{c, u, v} xp[n, g C/G + c, i sh + u dh, j sw + v dw] w[o, c, u, v],  g = o // (O/G)

with xp = x zero-padded by (before, after) per axis; padding is an int, two ints, two (before, after) pairs,
'valid' (no padding) or 'same' (stride 1: E - 1 split with the extra element after, torch's split).  Real data
are summed in float64 and rounded once to their dtype (f16 too); complex data in complex128.

convolve2d / correlate2d (scipy.signal semantics, zero fill): full convolution sum_u a[i - u] k[u]; correlation
is convolution with rot180(conj(k)); 'same' starts at (P - 1) // 2 (convolve) or P // 2 (correlate), 'valid' at
min(M, P) - 1.

Each planted bug imports this module (``sys.path`` of its own folder), computes :func:`conv2d_nc` on the
arguments it normalised with :func:`args`, and perturbs the result (or the arguments) only under its trigger.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: what every planted conv2d declares: f64/f32/f16, groups, bias, padding pairs and strings, no bounds (so the
#: index-limit extents 65535..65537 are inside the declaration)
CONV_CAPS = {"dtypes": ["f64", "f32", "f16"], "padding_pairs": True, "padding_strings": True}
SIGNAL_CAPS = {"dtypes": ["f64", "c128"]}


def pair(v, name="argument"):
    t = tuple(int(e) for e in v) if isinstance(v, (tuple, list)) else (int(v),) * 2
    if len(t) != 2:
        raise ValueError(f"{name}={v!r}: expected an int or 2 ints")
    return t


def pads(padding, kernel, dilation):
    """padding -> ((before, after), (before, after))."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
        raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int, 2 ints or 2 pairs")
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(f"padding={padding!r}: expected an int, 2 ints or 2 (before, after) pairs")
        return tuple((int(p[0]), int(p[1])) if isinstance(p, (tuple, list)) else (int(p), int(p)) for p in padding)
    return ((int(padding), int(padding)),) * 2


def args(x, w, stride, padding, dilation):
    """(stride, pads, dilation) normalised, the kernel taken from w."""
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    return s, pads(padding, w.shape[2:], d), d


def wide(a):
    a = np.asarray(a)
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def conv2d_nc(x, w, b, stride, pads_, dilation, groups):
    """The conv2d above, in the wide format (float64), not yet rounded."""
    x, w = wide(x), wide(w)
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), *pads_))
    (sh, sw), (dh, dw) = stride, dilation
    ext = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    out = tuple((L + lo + hi - e) // s + 1 for L, (lo, hi), e, s in zip(x.shape[2:], pads_, ext, stride))
    if min(out) <= 0:
        raise ValueError(f"the conv's output would be empty: {out}")
    win = sliding_window_view(xp, ext, axis=(2, 3))[:, :, :(out[0] - 1) * sh + 1:sh, :(out[1] - 1) * sw + 1:sw,
                                                    ::dh, ::dw]
    win = win.reshape(n, groups, cg, *out, kh, kw)
    y = np.einsum("ngcijuv,gocuv->ngoij", win, w.reshape(groups, o // groups, cg, kh, kw), optimize=True)
    y = y.reshape(n, o, *out)
    if b is not None:
        y = y + wide(b)[None, :, None, None]
    return y


def done(y, dtype):
    """One rounding to the data's dtype, a fresh C-contiguous array."""
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(y.astype(dtype))


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """The correct conv2d."""
    s, p, d = args(x, w, stride, padding, dilation)
    return done(conv2d_nc(x, w, b, s, p, d, int(groups)), np.asarray(x).dtype)


def signal(a, k, mode, correlate, same_start=None):
    """convolve2d / correlate2d; ``same_start(P, correlate)`` overrides where 'same' starts (the hook of a bug)."""
    a, k = np.asarray(a), np.asarray(k)
    if a.ndim != 2 or k.ndim != 2:
        raise ValueError(f"a and k must be 2-D, not {a.ndim}-D and {k.ndim}-D")
    dt = np.result_type(a, k)
    kk = wide(k)
    if correlate:
        kk = np.conj(kk)[::-1, ::-1]
    (M, N), (P, Q) = a.shape, k.shape
    ap = np.pad(wide(a), ((P - 1, P - 1), (Q - 1, Q - 1)))
    full = np.einsum("ijuv,uv->ij", sliding_window_view(ap, (P, Q)), kk[::-1, ::-1], optimize=True)
    if mode == "full":
        y = full
    elif mode == "same":
        start = same_start or (lambda q, corr: q // 2 if corr else (q - 1) // 2)
        i, j = start(P, correlate), start(Q, correlate)
        y = full[i:i + M, j:j + N]
    elif mode == "valid":
        if not ((M >= P and N >= Q) or (P >= M and Q >= N)):
            raise ValueError("mode='valid': one array must be at least as large as the other in every dimension")
        y = full[min(M, P) - 1:max(M, P), min(N, Q) - 1:max(N, Q)]
    else:
        raise ValueError(f"mode={mode!r}: expected 'full', 'same' or 'valid'")
    return done(y, dt)
