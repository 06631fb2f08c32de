"""Reference implementations.  They import numpy only -- never a backend under test.

conv1d/conv2d/conv3d (CNN layer, cross-correlation, NCW/NCHW/NCDHW; the rank is read from the
arrays), three independent ways:

* :func:`direct`  -- the definition, a direct sum over the kernel taps u (multi-indices; per axis
  products i*s + u*d)::

      y[n,o,i] = b[o] + sum_{c<C/G} sum_{u} xp[n, g(o)*C/G + c, i*s + u*d] * w[o,c,u]

  where xp is x zero-padded by (before, after) per axis (asymmetric allowed, or 'same'/'valid').
  In float64 it is exact for integer data while every
  partial sum stays below 2**53; with ``exact=True`` it runs on Python ints (object arrays), exact
  without any bound.
* :func:`im2col` -- X_col (rows ordered (c, u), one column per output position) and one matrix
  product with the block-diagonal weight matrix W_row of shape (O, C*prod(k)).
* :func:`fft` -- the convolution theorem: correlation with w is convolution with w reversed on every
  axis, computed as IFFTn(FFTn(x) * FFTn(rev(w_dilated))) on a zero-padded grid, then cropped and strided.

Signal operations with scipy.signal's exact semantics (:func:`convolve`, :func:`correlate`):

* full convolution ``c[i] = sum_u a[i-u] k[u]`` over all overlaps (any rank);
* ``same`` is the full result cropped to a's shape starting at ``(P-1)//2`` for convolution and at
  ``P//2`` for correlation (the two differ for even P);
* ``valid`` keeps the positions where one array lies wholly inside the other;
* correlation is convolution with ``rot180(conj(k))``.
"""

from __future__ import annotations

import math

import numpy as np

from convspec.model.problem import Problem, ntuple, pad_pairs, signal_out_shape


def _rank_of(x, w) -> int:
    r = np.ndim(w) - 2
    if r not in (1, 2, 3) or np.ndim(x) != r + 2:
        raise ValueError(f"x of rank {np.ndim(x)} and w of rank {np.ndim(w)}: expected N, C + 1 to 3 spatial axes "
                         "for both")
    return r


def resolve_padding(padding, kernel, dilation) -> tuple:
    """Explicit ((before, after), ...) per spatial axis for a conv padding: an int, one int per axis
    (symmetric), one (before, after) pair per axis, 'valid' (none) or 'same' (total d (k - 1) per axis,
    split as total // 2 before and the rest after: the extra element of an even dilated kernel goes at the
    end, torch's rule)."""
    rank = len(kernel)
    dil = ntuple(dilation, rank, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * rank
        if padding == "same":
            tot = [d * (k - 1) for k, d in zip(kernel, dil)]
            return tuple((t // 2, t - t // 2) for t in tot)
        raise ValueError(f"padding={padding!r}: expected an int, a tuple, 'valid' or 'same'")
    return pad_pairs(padding, rank)


def problem_of(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> Problem:
    """The :class:`Problem` (shapes and parameters; float64/int regime) for concrete arguments of any rank."""
    r = _rank_of(x, w)
    kernel = tuple(np.shape(w)[2:])
    return Problem(n=np.shape(x)[0], c=np.shape(x)[1], o=np.shape(w)[0], spatial=tuple(np.shape(x)[2:]),
                   kernel=kernel, stride=ntuple(stride, r, "stride"),
                   pads=resolve_padding(padding, kernel, dilation), dilation=ntuple(dilation, r, "dilation"),
                   g=int(groups), bias=b is not None)


def _window(u, p: Problem, out):
    """The slice of the padded input read by kernel tap u: start u*d, step s, ``out`` entries per axis."""
    return tuple(slice(ui * d, ui * d + (o - 1) * s + 1, s) for ui, d, s, o in zip(u, p.dilation, p.stride, out))


def _taps(x, p: Problem):
    """Yield (u, window) per kernel tap u (a multi-index): window[n, c, i...] = xp[n, c, i*s + u*d] with xp
    the zero-padded input."""
    xp = np.pad(x, ((0, 0), (0, 0), *p.pads))
    out = p.out_spatial()
    for u in np.ndindex(*p.kernel):
        yield u, xp[(slice(None), slice(None)) + _window(u, p, out)]


def _to_exact(a):
    return np.vectorize(int, otypes=[object])(a) if a.size else a.astype(object)


def _bias_view(b, rank, exact):
    bb = np.array([int(t) for t in b], dtype=object) if exact else np.asarray(b).astype(np.float64)
    return bb.reshape((1, -1) + (1,) * rank)


def direct(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, exact=False):
    """conv{1,2,3}d by the definition (see module docstring).  Returns float64, or Python ints if exact."""
    p = problem_of(x, w, b, stride, padding, dilation, groups)
    work = object if exact else np.float64
    x, w = (_to_exact(np.asarray(x)), _to_exact(np.asarray(w))) if exact else (x.astype(np.float64),
                                                                              w.astype(np.float64))
    y = np.zeros(p.y_shape, dtype=work)
    if exact:
        y[...] = 0
    cg, og = p.c // p.g, p.o // p.g
    for u, win in _taps(x, p):
        if p.g > 1 and not exact:    # every group in one contraction (one call, not G)
            xs = win.reshape(p.n, p.g, cg, *win.shape[2:])                            # (N, G, C/G, out...)
            ws = w[(slice(None), slice(None)) + u].reshape(p.g, og, cg)            # (G, O/G, C/G)
            y += np.einsum("ngc...,goc->ngo...", xs, ws).reshape(y.shape)
            continue
        for g in range(p.g):
            xs = win[:, g * cg:(g + 1) * cg]                             # (N, C/G, out...)
            ws = w[(slice(g * og, (g + 1) * og), slice(None)) + u]       # (O/G, C/G)
            y[:, g * og:(g + 1) * og] += np.tensordot(xs, ws, axes=([1], [1])).transpose(0, p.rank + 1, *range(1, p.rank + 1))
    if b is not None:
        y = y + _bias_view(b, p.rank, exact)
    return y


def im2col_columns(x, p: Problem):
    """X_col of shape (N, C*prod(k), prod(out)); row index = c*prod(k) + (u flattened) (channel first)."""
    out = p.out_spatial()
    cols = np.empty((p.n, p.c, *p.kernel, *out), dtype=x.dtype)
    for u, win in _taps(x, p):
        cols[(slice(None), slice(None)) + u] = win
    return cols.reshape(p.n, p.c * math.prod(p.kernel), math.prod(out))


def weight_rows(w, p: Problem):
    """W_row: (O, C*prod(k)), block diagonal over groups (zeros outside each group's channels)."""
    k = math.prod(p.kernel)
    cg, og = p.c // p.g, p.o // p.g
    wr = np.zeros((p.o, p.c * k), dtype=w.dtype)
    for g in range(p.g):
        wr[g * og:(g + 1) * og, g * cg * k:(g + 1) * cg * k] = w[g * og:(g + 1) * og].reshape(og, cg * k)
    return wr


def im2col(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv{1,2,3}d as one matrix product W_row @ X_col (float64)."""
    p = problem_of(x, w, b, stride, padding, dilation, groups)
    x, w = x.astype(np.float64), w.astype(np.float64)
    y = np.matmul(weight_rows(w, p), im2col_columns(x, p)).reshape(p.y_shape)
    if b is not None:
        y = y + _bias_view(b, p.rank, False)
    return y


def dilate_kernel(w, *dilation):
    """Insert (d-1) zeros between taps on every spatial axis: the dilated kernel of extent d*(k-1)+1.
    ``dilate_kernel(w, dh, dw)`` for 2-D, one factor per spatial axis."""
    r = np.ndim(w) - 2
    dil = ntuple(dilation[0] if len(dilation) == 1 else dilation, r, "dilation")
    out = np.zeros(w.shape[:2] + tuple(d * (k - 1) + 1 for k, d in zip(w.shape[2:], dil)), dtype=w.dtype)
    out[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in dil)] = w
    return out


def fft(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv{1,2,3}d by the convolution theorem (float64; normwise accurate, see tolerance.fft_bound)."""
    p = problem_of(x, w, b, stride, padding, dilation, groups)
    r = p.rank
    axes = tuple(range(2, 2 + r))
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), *p.pads))
    wd = dilate_kernel(w.astype(np.float64), p.dilation)[(slice(None), slice(None)) + (slice(None, None, -1),) * r]
    full_shape = tuple(a + k - 1 for a, k in zip(xp.shape[2:], wd.shape[2:]))
    X = np.fft.rfftn(xp, s=full_shape, axes=axes)
    K = np.fft.rfftn(wd, s=full_shape, axes=axes)
    cg, og = p.c // p.g, p.o // p.g
    out = p.out_spatial()
    y = np.empty(p.y_shape)
    crop = tuple(slice(e - 1, e - 1 + (o - 1) * s + 1, s) for e, o, s in zip(p.extent, out, p.stride))
    for g in range(p.g):
        Y = np.einsum("nc...,oc...->no...", X[:, g * cg:(g + 1) * cg], K[g * og:(g + 1) * og])
        full = np.fft.irfftn(Y, s=full_shape, axes=axes)
        y[:, g * og:(g + 1) * og] = full[(slice(None), slice(None)) + crop]     # the 'valid' part, strided
    if b is not None:
        y = y + _bias_view(b, r, False)
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


# -- the transposed convs and the gradients of conv{1,2,3}d (written for 2-D; every rank alike) --------
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
        return _to_exact(a)
    return np.asarray(a).astype(np.float64)


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1, exact=False):
    """conv_transpose{1,2,3}d by the definition (see above).  Returns float64, or Python ints if exact."""
    x, w = _exact_or_f64(np.asarray(x), exact), _exact_or_f64(np.asarray(w), exact)
    r = _rank_of(x, w)
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    pads = resolve_padding(padding, w.shape[2:], d)
    if any(lo != hi for lo, hi in pads):
        raise ValueError(f"padding={padding!r}: a transposed conv takes one padding per axis")
    p = tuple(lo for lo, _ in pads)
    op = ntuple(output_padding, r, "output_padding")
    n, c = x.shape[:2]
    L, k = x.shape[2:], w.shape[2:]
    og, G = w.shape[1], int(groups)
    cg = c // G
    out = tuple((li - 1) * si - 2 * pi + di * (ki - 1) + opi + 1 for li, si, pi, di, ki, opi in zip(L, s, p, d, k, op))
    # the uncropped scatter, large enough for the crop
    fshape = tuple(max((li - 1) * si + di * (ki - 1) + 1, pi + oi) for li, si, di, ki, pi, oi in zip(L, s, d, k, p, out))
    full = np.zeros((n, og * G, *fshape), dtype=object if exact else np.float64)
    if exact:
        full[...] = 0
    for u in np.ndindex(*k):
        tgt = tuple(slice(ui * di, ui * di + (li - 1) * si + 1, si) for ui, di, li, si in zip(u, d, L, s))
        for g in range(G):
            xs = x[:, g * cg:(g + 1) * cg]                                        # (N, Cg, L...)
            ws = w[(slice(g * cg, (g + 1) * cg), slice(None)) + u]               # (Cg, Og)
            full[(slice(None), slice(g * og, (g + 1) * og)) + tgt] += \
                np.tensordot(xs, ws, axes=([1], [0])).transpose(0, r + 1, *range(1, r + 1))
    y = full[(slice(None), slice(None)) + tuple(slice(pi, pi + oi) for pi, oi in zip(p, out))]
    if b is not None:
        y = y + _bias_view(b, r, exact)
    return np.ascontiguousarray(y)


conv_transpose2d = conv_transpose
conv_transpose1d = conv_transpose
conv_transpose3d = conv_transpose


def grad_output_padding(input_shape, grad_shape, kernel, stride, padding, dilation) -> tuple:
    """The output_padding that makes the transposed conv of grad_out (grad_shape) as large as the forward
    input (input_shape): op = L - ((L_out - 1) s - 2 p + d (k - 1) + 1) per axis."""
    r = len(kernel)
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    p = [lo for lo, _ in resolve_padding(padding, kernel, d)]
    return tuple(int(input_shape[2 + i]) - ((int(grad_shape[2 + i]) - 1) * s[i] - 2 * p[i] + d[i] * (kernel[i] - 1) + 1)
                 for i in range(r))


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1, exact=False):
    """Gradient of conv{r}d with respect to its input (of shape ``input_shape``): the transposed conv of
    grad_out with the same weight (w: (C_out, C_in/G, k...) of the forward conv)."""
    op = grad_output_padding(input_shape, np.shape(grad_out), np.shape(w)[2:], stride, padding, dilation)
    return conv_transpose(grad_out, w, stride=stride, padding=padding, output_padding=op, groups=groups,
                          dilation=dilation, exact=exact)


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1, exact=False):
    """Gradient of conv{r}d with respect to its weight (of shape ``weight_shape`` = (O, C/G, k...)):
    gw[o, c, u] = sum_{n, i} grad_out[n, o, i] * xp[n, g(o)*C/G + c, i*s + u*d] (multi-indices i, u)."""
    x, gy = _exact_or_f64(np.asarray(x), exact), _exact_or_f64(np.asarray(grad_out), exact)
    ws = tuple(int(v) for v in weight_shape)
    p = problem_of(x, np.empty(ws, dtype=np.int8), None, stride, padding, dilation, groups)
    if tuple(gy.shape) != p.y_shape:
        raise ValueError(f"grad_out has shape {gy.shape}; the conv's output is {p.y_shape}")
    o, cg = ws[:2]
    og = o // p.g
    gw = np.zeros(ws, dtype=object if exact else np.float64)
    if exact:
        gw[...] = 0
    red = [0] + list(range(2, 2 + p.rank))
    for u, win in _taps(x, p):                              # win: (N, C, out...)
        for g in range(p.g):
            gw[(slice(g * og, (g + 1) * og), slice(None)) + u] = np.tensordot(
                gy[:, g * og:(g + 1) * og], win[:, g * cg:(g + 1) * cg], axes=(red, red))
    return gw


conv2d_input = conv1d_input = conv3d_input = conv_input
conv2d_weight = conv1d_weight = conv3d_weight = conv_weight


def bias_grad(grad_out, exact=False):
    """Gradient of conv{r}d with respect to its bias: sum of grad_out over the batch and spatial axes."""
    g = _exact_or_f64(np.asarray(grad_out), exact)
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))


# -- padding modes (issue 10) -----------------------------------------

#: conv2d's padding_mode -> np.pad's mode (torch's names on the left)
PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad_input(x, pads, padding_mode="zeros"):
    """x (N, C, spatial...) padded by ((before, after), ...) per spatial axis with np.pad's mode for
    ``padding_mode``."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode={padding_mode!r}: expected one of {', '.join(PADDING_MODES)}")
    return np.pad(np.asarray(x), ((0, 0), (0, 0), *pads), mode=PADDING_MODES[padding_mode])
