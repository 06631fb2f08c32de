"""Reference implementations.  They import numpy only -- never a backend under test.

conv2d (CNN layer, cross-correlation, NCHW), three independent ways:

* :func:`direct`  -- the definition, a direct sum over the kernel taps::

      y[n,o,i,j] = b[o] + sum_{c<C/G} sum_{u<kH} sum_{v<kW} xp[n, g(o)*C/G + c, i*sH + u*dH, j*sW + v*dW] * w[o,c,u,v]

  where xp is x zero-padded by (pH, pW).  In float64 it is exact for integer data while every
  partial sum stays below 2**53; with ``exact=True`` it runs on Python ints (object arrays), exact
  without any bound.
* :func:`im2col` -- X_col (rows ordered (c, u, v), one column per output pixel) and one matrix
  product with the block-diagonal weight matrix W_row of shape (O, C*kH*kW).
* :func:`fft` -- the convolution theorem: correlation with w is convolution with rot180(w), computed
  as IFFT(FFT(x) * FFT(rot180(w_dilated))) on a zero-padded grid, then cropped and strided.

Signal operations with scipy.signal's exact semantics (:func:`convolve`, :func:`correlate`):

* full convolution ``c[i] = sum_u a[i-u] k[u]`` over all overlaps (any rank);
* ``same`` is the full result cropped to a's shape starting at ``(P-1)//2`` for convolution and at
  ``P//2`` for correlation (the two differ for even P);
* ``valid`` keeps the positions where one array lies wholly inside the other;
* correlation is convolution with ``rot180(conj(k))``.
"""

from __future__ import annotations

import numpy as np

from .problem import Problem, signal_out_shape


def _pairs(stride, padding, dilation):
    def p(v):
        return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))
    return p(stride), p(padding), p(dilation)


def problem_of(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> Problem:
    """The :class:`Problem` (shapes and parameters; float64/int regime) for concrete arguments."""
    (sh, sw), (ph, pw), (dh, dw) = _pairs(stride, padding, dilation)
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    return Problem(n=n, c=c, h=h, w=wd, o=o, kh=kh, kw=kw, sh=sh, sw=sw, ph=ph, pw=pw, dh=dh, dw=dw,
                   g=groups, bias=b is not None)


def _taps(x, p: Problem):
    """Yield (u, v, window) with window[n, c, i, j] = xp[n, c, i*sH + u*dH, j*sW + v*dW]."""
    xp = np.pad(x, ((0, 0), (0, 0), (p.ph, p.ph), (p.pw, p.pw)))
    ho, wo = p.out_hw()
    for u in range(p.kh):
        for v in range(p.kw):
            r0, c0 = u * p.dh, v * p.dw
            yield u, v, xp[:, :, r0:r0 + (ho - 1) * p.sh + 1:p.sh, c0:c0 + (wo - 1) * p.sw + 1:p.sw]


def direct(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, exact=False):
    """conv2d by the definition (see module docstring).  Returns float64, or Python ints if exact."""
    p = problem_of(x, w, b, stride, padding, dilation, groups)
    work = object if exact else np.float64
    if exact:
        x = np.vectorize(int, otypes=[object])(x) if x.size else x.astype(object)
        w = np.vectorize(int, otypes=[object])(w) if w.size else w.astype(object)
    else:
        x, w = x.astype(np.float64), w.astype(np.float64)
    ho, wo = p.out_hw()
    y = np.zeros((p.n, p.o, ho, wo), dtype=work)
    cg, og = p.c // p.g, p.o // p.g
    for u, v, win in _taps(x, p):
        for g in range(p.g):
            xs = win[:, g * cg:(g + 1) * cg]              # (N, C/G, Ho, Wo)
            ws = w[g * og:(g + 1) * og, :, u, v]          # (O/G, C/G)
            y[:, g * og:(g + 1) * og] += np.tensordot(xs, ws, axes=([1], [1])).transpose(0, 3, 1, 2)
    if b is not None:
        bb = np.array([int(t) for t in b], dtype=object) if exact else b.astype(np.float64)
        y = y + bb[None, :, None, None]
    return y


def im2col_columns(x, p: Problem):
    """X_col of shape (N, C*kH*kW, Ho*Wo); row index = c*kH*kW + u*kW + v (channel first)."""
    ho, wo = p.out_hw()
    cols = np.empty((p.n, p.c, p.kh, p.kw, ho, wo), dtype=x.dtype)
    for u, v, win in _taps(x, p):
        cols[:, :, u, v] = win
    return cols.reshape(p.n, p.c * p.kh * p.kw, ho * wo)


def weight_rows(w, p: Problem):
    """W_row: (O, C*kH*kW), block diagonal over groups (zeros outside each group's channels)."""
    k = p.kh * p.kw
    cg, og = p.c // p.g, p.o // p.g
    wr = np.zeros((p.o, p.c * k), dtype=w.dtype)
    for g in range(p.g):
        wr[g * og:(g + 1) * og, g * cg * k:(g + 1) * cg * k] = w[g * og:(g + 1) * og].reshape(og, cg * k)
    return wr


def im2col(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv2d as one matrix product W_row @ X_col (float64)."""
    p = problem_of(x, w, b, stride, padding, dilation, groups)
    x, w = x.astype(np.float64), w.astype(np.float64)
    ho, wo = p.out_hw()
    y = np.matmul(weight_rows(w, p), im2col_columns(x, p)).reshape(p.n, p.o, ho, wo)
    if b is not None:
        y = y + b.astype(np.float64)[None, :, None, None]
    return y


def dilate_kernel(w, dh: int, dw: int):
    """Insert (d-1) zeros between taps: the dilated kernel of extent d*(k-1)+1."""
    o, c, kh, kw = w.shape
    out = np.zeros((o, c, dh * (kh - 1) + 1, dw * (kw - 1) + 1), dtype=w.dtype)
    out[:, :, ::dh, ::dw] = w
    return out


def fft(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv2d by the convolution theorem (float64; normwise accurate, see tolerance.fft_bound)."""
    p = problem_of(x, w, b, stride, padding, dilation, groups)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p.ph, p.ph), (p.pw, p.pw)))
    wd = dilate_kernel(w.astype(np.float64), p.dh, p.dw)[:, :, ::-1, ::-1]   # rot180 => convolution
    H, W = xp.shape[2] + wd.shape[2] - 1, xp.shape[3] + wd.shape[3] - 1
    X = np.fft.rfft2(xp, s=(H, W))                                            # (N, C, H, W/2+1)
    K = np.fft.rfft2(wd, s=(H, W))                                            # (O, C/G, ...)
    cg, og = p.c // p.g, p.o // p.g
    ho, wo = p.out_hw()
    y = np.empty((p.n, p.o, ho, wo))
    for g in range(p.g):
        Y = np.einsum("ncij,ocij->noij", X[:, g * cg:(g + 1) * cg], K[g * og:(g + 1) * og])
        full = np.fft.irfft2(Y, s=(H, W))
        r0, c0 = p.ekh - 1, p.ekw - 1                     # 'valid' part of the full convolution
        y[:, g * og:(g + 1) * og] = full[:, :, r0:r0 + (ho - 1) * p.sh + 1:p.sh, c0:c0 + (wo - 1) * p.sw + 1:p.sw]
    if b is not None:
        y = y + b.astype(np.float64)[None, :, None, None]
    return y


def abs_sum(x, w, b=None, **kw):
    """sum |x||w| (+|b|) per output element: the magnitude that scales the direct-sum error bound."""
    return direct(np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64)),
                  None if b is None else np.abs(b.astype(np.float64)), **kw)


# -- signal operations -------------------------------------------------------------------------

def convolve_full(a, k):
    """Full N-d convolution by the definition: out[i] = sum_u a[i - u] k[u] (result_type dtype)."""
    a, k = np.asarray(a), np.asarray(k)
    dt = np.result_type(a, k)
    out = np.zeros(tuple(m + q - 1 for m, q in zip(a.shape, k.shape)), dtype=dt)
    for u in np.ndindex(*k.shape):
        sl = tuple(slice(ui, ui + m) for ui, m in zip(u, a.shape))
        out[sl] += (a * k[u]).astype(dt, copy=False)
    return out


def _crop(full, a_shape, k_shape, mode, correlate):
    if mode == "full":
        return full
    if mode == "same":
        starts = [(q // 2 if correlate else (q - 1) // 2) for q in k_shape]
        return full[tuple(slice(s, s + m) for s, m in zip(starts, a_shape))]
    out = signal_out_shape(a_shape, k_shape, "valid")
    starts = [min(m, q) - 1 for m, q in zip(a_shape, k_shape)]
    return full[tuple(slice(s, s + n) for s, n in zip(starts, out))]


def convolve(a, k, mode="full"):
    """scipy.signal.convolve/convolve2d semantics (direct, zero fill)."""
    a, k = np.asarray(a), np.asarray(k)
    signal_out_shape(a.shape, k.shape, mode)          # raises for an impossible 'valid'
    return _crop(convolve_full(a, k), a.shape, k.shape, mode, correlate=False)


def correlate(a, k, mode="full"):
    """scipy.signal.correlate/correlate2d semantics: convolution with rot180(conj(k)), 'same' from P//2."""
    a, k = np.asarray(a), np.asarray(k)
    signal_out_shape(a.shape, k.shape, mode)
    kr = np.conj(k)[tuple(slice(None, None, -1) for _ in k.shape)]
    return _crop(convolve_full(a, kr), a.shape, k.shape, mode, correlate=True)


def rot180(k):
    """Reverse every axis (the 180-degree rotation for 2-D)."""
    k = np.asarray(k)
    return k[tuple(slice(None, None, -1) for _ in k.shape)]
