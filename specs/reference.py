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


# -- the transposed conv and the gradients of conv2d -----------------------------------------------
#
# conv_transpose2d (torch semantics; w: (C_in, C_out/G, kH, kW)) scatters every input element through
# the kernel:
#
#     y[n, g*Og + o, i*sH + u*dH - pH, j*sW + v*dW - pW] += x[n, g*Cg + c, i, j] * w[g*Cg + c, o, u, v]
#
# into an output of extent H' = (H-1) sH - 2 pH + dH (kH-1) + opH + 1, targets outside [0, H') dropped.
# It is the adjoint of conv2d with the same weight (<conv2d(a), x> == <a, conv_transpose2d(x)>), hence the
# input gradient of conv2d.  The weight gradient of conv2d correlates the input with grad_out:
#
#     gw[g*Cg + c, o, u, v] = sum_{n,i,j} gy[n, g*Cg + c, i, j] * ap[n, g*Og + o, i*sH + u*dH, j*sW + v*dW]
#
# (ap: the forward input a zero-padded by (pH, pW); here the forward conv has O input channels and C
# output channels, as the transposed conv's roles are swapped).  The bias gradient sums grad_out over
# the batch and spatial axes.  All three are written here as literal sums over the kernel taps, in
# float64 or, with ``exact=True``, in Python integers.

def _exact_or_f64(a, exact):
    if exact:
        return np.vectorize(int, otypes=[object])(a) if a.size else a.astype(object)
    return np.asarray(a).astype(np.float64)


def conv_transpose2d(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1, exact=False):
    """conv_transpose2d by the definition (see above).  Returns float64, or Python ints if exact."""
    (sh, sw), (ph, pw), (dh, dw) = _pairs(stride, padding, dilation)
    oph, opw = _pairs(output_padding, 0, 1)[0]
    x, w = _exact_or_f64(np.asarray(x), exact), _exact_or_f64(np.asarray(w), exact)
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    G = int(groups)
    cg = c // G
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    fh = max((h - 1) * sh + dh * (kh - 1) + 1, ph + ho)      # the uncropped scatter, large enough for the crop
    fw = max((wd - 1) * sw + dw * (kw - 1) + 1, pw + wo)
    full = np.zeros((n, og * G, fh, fw), dtype=object if exact else np.float64)
    if exact:
        full[...] = 0
    for u in range(kh):
        for v in range(kw):
            r0, c0 = u * dh, v * dw
            for g in range(G):
                xs = x[:, g * cg:(g + 1) * cg]                     # (N, Cg, H, W)
                ws = w[g * cg:(g + 1) * cg, :, u, v]               # (Cg, Og)
                full[:, g * og:(g + 1) * og, r0:r0 + (h - 1) * sh + 1:sh, c0:c0 + (wd - 1) * sw + 1:sw] += \
                    np.tensordot(xs, ws, axes=([1], [0])).transpose(0, 3, 1, 2)
    y = full[:, :, ph:ph + ho, pw:pw + wo]
    if b is not None:
        bb = np.array([int(t) for t in b], dtype=object) if exact else np.asarray(b).astype(np.float64)
        y = y + bb[None, :, None, None]
    return np.ascontiguousarray(y)


def grad_output_padding(input_shape, grad_shape, kernel, stride, padding, dilation) -> tuple[int, int]:
    """The output_padding that makes the transposed conv of grad_out (grad_shape) as large as the forward
    input (input_shape): opH = H - ((Ho - 1) sH - 2 pH + dH (kH - 1) + 1), likewise W."""
    (sh, sw), (ph, pw), (dh, dw) = _pairs(stride, padding, dilation)
    kh, kw = kernel
    return (int(input_shape[2]) - ((int(grad_shape[2]) - 1) * sh - 2 * ph + dh * (kh - 1) + 1),
            int(input_shape[3]) - ((int(grad_shape[3]) - 1) * sw - 2 * pw + dw * (kw - 1) + 1))


def conv2d_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1, exact=False):
    """Gradient of conv2d with respect to its input (of shape ``input_shape``): the transposed conv of
    grad_out with the same weight (w: (C_out, C_in/G, kH, kW) of the forward conv)."""
    op = grad_output_padding(input_shape, np.shape(grad_out), np.shape(w)[2:], stride, padding, dilation)
    return conv_transpose2d(grad_out, w, stride=stride, padding=padding, output_padding=op, groups=groups,
                            dilation=dilation, exact=exact)


def conv2d_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1, exact=False):
    """Gradient of conv2d with respect to its weight (of shape ``weight_shape`` = (O, C/G, kH, kW)):
    gw[o, c, u, v] = sum_{n,i,j} grad_out[n, o, i, j] * xp[n, g(o)*C/G + c, i*sH + u*dH, j*sW + v*dW]."""
    (sh, sw), (ph, pw), (dh, dw) = _pairs(stride, padding, dilation)
    x, gy = _exact_or_f64(np.asarray(x), exact), _exact_or_f64(np.asarray(grad_out), exact)
    o, cg, kh, kw = (int(v) for v in weight_shape)
    G = int(groups)
    og = o // G
    ho, wo = gy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=0 if exact else 0.0)
    gw = np.zeros((o, cg, kh, kw), dtype=object if exact else np.float64)
    if exact:
        gw[...] = 0
    for u in range(kh):
        for v in range(kw):
            r0, c0 = u * dh, v * dw
            win = xp[:, :, r0:r0 + (ho - 1) * sh + 1:sh, c0:c0 + (wo - 1) * sw + 1:sw]   # (N, C, Ho, Wo)
            for g in range(G):
                gw[g * og:(g + 1) * og, :, u, v] = np.tensordot(gy[:, g * og:(g + 1) * og],
                                                                win[:, g * cg:(g + 1) * cg],
                                                                axes=([0, 2, 3], [0, 2, 3]))
    return gw


def bias_grad(grad_out, exact=False):
    """Gradient of conv2d with respect to its bias: sum of grad_out over the batch and spatial axes."""
    return _exact_or_f64(np.asarray(grad_out), exact).sum(axis=(0, 2, 3))


# -- padding strings and padding modes of conv2d (issue 10) -----------------------------------------

#: conv2d's padding_mode -> np.pad's mode (torch's names on the left)
PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def resolve_padding(padding, kernel, dilation) -> tuple[tuple[int, int], tuple[int, int]]:
    """Explicit ((top, bottom), (left, right)) for a conv2d padding: an int or a pair (symmetric), 'valid'
    (none) or 'same' (total d (k - 1) per axis, split as total // 2 before and the rest after: the extra
    element of an even dilated kernel goes at the end, torch's rule)."""
    kh, kw = kernel
    (dh, dw) = _pairs(1, 0, dilation)[2]
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            th, tw = dh * (kh - 1), dw * (kw - 1)
            return (th // 2, th - th // 2), (tw // 2, tw - tw // 2)
        raise ValueError(f"padding={padding!r}: expected an int, a pair, 'valid' or 'same'")
    ph, pw = _pairs(1, padding, 1)[1]
    return (ph, ph), (pw, pw)


def pad_input(x, pads, padding_mode="zeros"):
    """x (N, C, H, W) padded by ((top, bottom), (left, right)) with np.pad's mode for ``padding_mode``."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode={padding_mode!r}: expected one of {', '.join(PADDING_MODES)}")
    return np.pad(np.asarray(x), ((0, 0), (0, 0), *pads), mode=PADDING_MODES[padding_mode])
