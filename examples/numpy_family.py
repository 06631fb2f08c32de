"""A correct numpy implementation of the whole contract, written plainly, as a user would: the 14 ops
(conv1d/2d/3d, conv_transpose1d/2d/3d, conv{1,2,3}d_input, conv{1,2,3}d_weight, convolve2d, correlate2d)
in every rank, every dtype of each op kind's domain, groups, stride, dilation, padding as ints, per-axis
ints, (before, after) pairs, 'valid'/'same', and padding_mode reflect/replicate/circular.

    pytest --impl examples/numpy_family.py --backends none     # or: convspec gate examples/numpy_family.py

Arithmetic.  Real floating-point data (f64, f32, f16, bf16 = ``ml_dtypes.bfloat16``) are widened to
float64, every output is summed in float64 and rounded once to the data's dtype (round to nearest
even; bf16 by rounding the significand to 8 bits, because ``astype(bfloat16)`` of a float64 rounds
through float32 first: two roundings).  Integer signal data are summed in int64 and wrap to their own
type (two's complement: the same bits as summing in that type, as scipy.signal does); complex data in
complex128.

The definitions (channels first, torch's weight orders; multi-indices per spatial axis):

* conv:      y[n, o, i] = b[o] + sum_{c, u} xp[n, g C/G + c, i s + u d] w[o, c, u],  g = o // (O/G),
             xp = x padded by (before, after) per axis (zeros, or np.pad's reflect/edge/wrap);
* transpose: y[n, g O/G + o, i s + u d - p] += x[n, g C/G + c, i] w[g C/G + c, o, u] (a scatter), then
             cropped to L_out = (L - 1) s - 2 p + d (k - 1) + output_padding + 1;
* input:     the transposed conv of grad_out with the conv's weight, cropped to input_shape;
* weight:    gw[o, c, u] = sum_{n, i} grad_out[n, o, i] xp[n, g C/G + c, i s + u d];
* signal:    full convolution sum_u a[i - u] k[u]; correlation is convolution with rot180(conj(k));
             'same' starts at (P - 1) // 2 (convolve) or P // 2 (correlate), 'valid' at min(M, P) - 1.

With ``"zero_taps": "skip"`` declared, the convs and the signal ops leave out the products of zero weights (a
sparse filter's reading: 0 x NaN is no term).

Declarations.  ``CAPABILITIES`` is the full contract, unless the environment variable
``CONVSPEC_EXAMPLE_CAPS`` holds a JSON object: then that object is the declaration (``{}`` declares
nothing and lets the gate probe).  With ``"layout": "NHWC"`` every activation (x, grad_out, the
result, input_shape) really is channels last, and with ``"weight_layout": "HWIO"`` the weights (and
weight_shape, and the weight gradient) really are (k..., C/G, O), or (k..., O/G, C) for the
transposed convs: the functions move them to channels first on entry and back on exit.
"""

from __future__ import annotations

import json
import os

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

NAME = "numpy-family"
FULL = {"dtypes": ["f64", "f32", "f16", "bf16", "i8", "i16", "i32", "i64", "c128"], "padding_strings": True,
        "padding_modes": ["zeros", "reflect", "replicate", "circular"], "padding_pairs": True}
CAPABILITIES = json.loads(os.environ["CONVSPEC_EXAMPLE_CAPS"]) if os.environ.get("CONVSPEC_EXAMPLE_CAPS") else FULL

CHANNELS_LAST = CAPABILITIES.get("layout", "NCHW") in ("NHWC", "NWC", "NDHWC")
HWIO = CAPABILITIES.get("weight_layout", "OIHW") in ("HWIO", "WIO", "DHWIO")
PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
SKIP_ZERO_TAPS = CAPABILITIES.get("zero_taps", "multiply") == "skip"     # a zero weight is no term (sparse filters)


# -- arguments ---------------------------------------------------------------------------------------

def _ints(v, r, name):
    """An int (numpy integers too) or r of them -> a tuple of r Python ints."""
    t = tuple(int(e) for e in v) if isinstance(v, (tuple, list)) else (int(v),) * r
    if len(t) != r:
        raise ValueError(f"{name}={v!r}: expected an int or {r} ints")
    return t


def _pads(padding, kernel, dilation):
    """padding -> ((before, after), ...) per spatial axis."""
    r = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * r
        if padding == "same":
            return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
        raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int, {r} ints or {r} pairs")
    if isinstance(padding, (tuple, list)):
        if len(padding) != r:
            raise ValueError(f"padding={padding!r}: expected an int, {r} ints or {r} (before, after) pairs")
        return tuple((int(p[0]), int(p[1])) if isinstance(p, (tuple, list)) else (int(p), int(p)) for p in padding)
    return ((int(padding), int(padding)),) * r


def _symmetric(padding, kernel, dilation):
    pads = _pads(padding, kernel, dilation)
    if any(lo != hi for lo, hi in pads):
        raise ValueError(f"padding={padding!r}: the transposed conv and the gradients take one padding per axis")
    return tuple(lo for lo, _ in pads)


# -- layouts -----------------------------------------------------------------------------------------

def _act_in(a):
    """An activation as given -> channels first."""
    a = np.asarray(a)
    return np.moveaxis(a, -1, 1) if CHANNELS_LAST else a


def _act_out(a):
    return np.ascontiguousarray(np.moveaxis(a, 1, -1) if CHANNELS_LAST else a)


def _act_shape_in(s):
    s = tuple(int(v) for v in s)
    return (s[0], s[-1], *s[1:-1]) if CHANNELS_LAST else s


def _w_in(w):
    """A weight as given -> torch's order (a, b, k...); HWIO is (k..., b, a)."""
    w = np.asarray(w)
    r = w.ndim - 2
    return np.transpose(w, (r + 1, r, *range(r))) if HWIO else w


def _w_out(w):
    r = w.ndim - 2
    return np.ascontiguousarray(np.transpose(w, (*range(2, r + 2), 1, 0)) if HWIO else w)


def _w_shape_in(s):
    s = tuple(int(v) for v in s)
    return (s[-1], s[-2], *s[:-2]) if HWIO else s


# -- arithmetic --------------------------------------------------------------------------------------

def _wide(a):
    """The array in the format its sums are taken in: float64, int64 or complex128."""
    a = np.asarray(a)
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    if a.dtype.kind == "c":
        return a.astype(np.complex128)
    return a.astype(np.float64)


def _round(y, dtype):
    """One rounding of the wide result to ``dtype`` (integers wrap)."""
    dtype = np.dtype(dtype)
    if dtype.name == "bfloat16":
        m, e = np.frexp(y)
        y = np.ldexp(np.rint(m * 256.0), e - 8)      # 8 significant bits, to nearest even: exact below
        with np.errstate(over="ignore"):
            return y.astype(np.float32).astype(dtype)
    with np.errstate(over="ignore"):
        return y.astype(dtype)


def _windows(xp, kernel, stride, dilation, out):
    """View [n, c, i..., u...] = xp[n, c, i s + u d] (i < out, u < kernel)."""
    r = len(kernel)
    ext = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    v = sliding_window_view(xp, ext, axis=tuple(range(2, 2 + r)))
    v = v[(slice(None), slice(None)) + tuple(slice(None, (o - 1) * s + 1, s) for o, s in zip(out, stride))
          + tuple(slice(None, None, d) for d in dilation)]
    return v


_SP, _KS = "xyz", "uvt"


def _conv_nc(x, w, b, stride, pads, dilation, groups, mode="zeros"):
    """conv{r}d channels first on wide arrays."""
    r = w.ndim - 2
    o, cg, *k = w.shape
    n, c = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), *pads), mode=PAD_MODES[mode])
    out = tuple((L + lo + hi - d * (kk - 1) - 1) // s + 1
                for L, (lo, hi), kk, s, d in zip(x.shape[2:], pads, k, stride, dilation))
    if min(out) <= 0:
        raise ValueError(f"the conv's output would be empty: {out}")
    win = _windows(xp, k, stride, dilation, out).reshape(n, groups, cg, *out, *k)
    sp, ks = _SP[:r], _KS[:r]
    wg = w.reshape(groups, o // groups, cg, *k)
    if SKIP_ZERO_TAPS:      # each output channel sums over its non-zero weights only: 0 x NaN is no term
        y = np.stack([np.einsum(f"nc{sp}{ks},c{ks}->n{sp}",
                                np.where((wg[gi, oi] != 0).reshape(1, cg, *(1,) * r, *k), win[:, gi], 0),
                                wg[gi, oi], optimize=True)
                      for gi in range(groups) for oi in range(o // groups)], axis=1)
    else:
        y = np.einsum(f"ngc{sp}{ks},goc{ks}->ngo{sp}", win, wg, optimize=True)
    y = y.reshape(n, o, *out)
    if b is not None:
        y = y + _wide(b).reshape((1, o) + (1,) * r)
    return y


def _scatter_nc(x, w, b, stride, pad, dilation, groups, out):
    """The transposed conv channels first on wide arrays: x (N, C, L...), w (C, O/G, k...), cropped to out."""
    r = w.ndim - 2
    n, c, *L = x.shape
    _, og, *k = w.shape
    cg = c // groups
    full = tuple(max((l - 1) * s + d * (kk - 1) + 1, p + e)
                 for l, s, d, kk, p, e in zip(L, stride, dilation, k, pad, out))
    y = np.zeros((n, og * groups, *full), dtype=np.result_type(x, w))
    xs = x.reshape(n, groups, cg, *L)
    ws = w.reshape(groups, cg, og, *k)
    sp = _SP[:r]
    for u in np.ndindex(*k):
        part = np.einsum(f"ngc{sp},gco->ngo{sp}", xs, ws[(slice(None),) * 3 + u], optimize=True)
        at = tuple(slice(uu * d, uu * d + (l - 1) * s + 1, s) for uu, d, l, s in zip(u, dilation, L, stride))
        y[(slice(None), slice(None)) + at] += part.reshape(n, og * groups, *L)
    y = y[(slice(None), slice(None)) + tuple(slice(p, p + e) for p, e in zip(pad, out))]
    if b is not None:
        y = y + _wide(b).reshape((1, -1) + (1,) * r)
    return y


# -- the contract ------------------------------------------------------------------------------------

def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv{1,2,3}d: the CNN layer (cross-correlation)."""
    x, w = _act_in(x), _w_in(w)
    r = w.ndim - 2
    if padding_mode not in PAD_MODES:
        raise ValueError(f"padding_mode={padding_mode!r}: expected one of {', '.join(PAD_MODES)}")
    s, d = _ints(stride, r, "stride"), _ints(dilation, r, "dilation")
    if padding == "same" and s != (1,) * r:
        raise ValueError(f"padding='same' needs stride 1, not {stride!r}")
    pads = _pads(padding, w.shape[2:], d)
    y = _conv_nc(_wide(x), _wide(w), b, s, pads, d, int(groups), padding_mode)
    return _act_out(_round(y, x.dtype))


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """conv_transpose{1,2,3}d (torch semantics)."""
    x, w = _act_in(x), _w_in(w)
    r = w.ndim - 2
    s, d = _ints(stride, r, "stride"), _ints(dilation, r, "dilation")
    op = _ints(output_padding, r, "output_padding")
    p = _symmetric(padding, w.shape[2:], d)
    out = tuple((l - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1
                for l, ss, pp, dd, kk, oo in zip(x.shape[2:], s, p, d, w.shape[2:], op))
    y = _scatter_nc(_wide(x), _wide(w), b, s, p, d, int(groups), out)
    return _act_out(_round(y, x.dtype))


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """conv{1,2,3}d_input: d<conv(x, w), grad_out>/dx, of shape input_shape."""
    shape, w, gy = _act_shape_in(input_shape), _w_in(w), _act_in(grad_out)
    r = w.ndim - 2
    s, d = _ints(stride, r, "stride"), _ints(dilation, r, "dilation")
    p = _symmetric(padding, w.shape[2:], d)
    y = _scatter_nc(_wide(gy), _wide(w), None, s, p, d, int(groups), shape[2:])
    return _act_out(_round(y, gy.dtype))


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """conv{1,2,3}d_weight: d<conv(x, w), grad_out>/dw, of shape weight_shape."""
    x, ws, gy = _act_in(x), _w_shape_in(weight_shape), _act_in(grad_out)
    o, cg, *k = ws
    r, g = len(k), int(groups)
    s, d = _ints(stride, r, "stride"), _ints(dilation, r, "dilation")
    p = _symmetric(padding, k, d)
    n, out = x.shape[0], gy.shape[2:]
    xp = np.pad(_wide(x), ((0, 0), (0, 0), *((q, q) for q in p)))
    win = _windows(xp, k, s, d, out).reshape(n, g, cg, *out, *k)
    sp, ks = _SP[:r], _KS[:r]
    gw = np.einsum(f"ngc{sp}{ks},ngo{sp}->goc{ks}", win, _wide(gy).reshape(n, g, o // g, *out), optimize=True)
    return _w_out(_round(gw.reshape(o, cg, *k), gy.dtype))


conv1d = conv2d = conv3d = conv
conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose
conv1d_input = conv2d_input = conv3d_input = conv_input
conv1d_weight = conv2d_weight = conv3d_weight = conv_weight


def _full2d(a, k):
    """Full 2-D convolution sum_u a[i - u] k[u], in the wide format."""
    P, Q = k.shape
    ap = np.pad(a, ((P - 1, P - 1), (Q - 1, Q - 1)))
    win, kf = sliding_window_view(ap, (P, Q)), k[::-1, ::-1]
    if SKIP_ZERO_TAPS:      # a zero tap multiplies nothing
        win = np.where(kf != 0, win, 0)
    return np.einsum("ijuv,uv->ij", win, kf, optimize=True)


def _signal(a, k, mode, correlate):
    a, k = np.asarray(a), np.asarray(k)
    if a.ndim != 2 or k.ndim != 2:
        raise ValueError(f"a and k must be 2-D, not {a.ndim}-D and {k.ndim}-D")
    dt = np.result_type(a, k)
    kk = _wide(k)
    if correlate:
        kk = np.conj(kk)[::-1, ::-1]
    full = _full2d(_wide(a), kk)
    (M, N), (P, Q) = a.shape, k.shape
    if mode == "full":
        y = full
    elif mode == "same":
        i, j = ((P // 2, Q // 2) if correlate else ((P - 1) // 2, (Q - 1) // 2))
        y = full[i:i + M, j:j + N]
    elif mode == "valid":
        if not ((M >= P and N >= Q) or (P >= M and Q >= N)):
            raise ValueError("mode='valid': one array must be at least as large as the other in every dimension")
        y = full[min(M, P) - 1:max(M, P), min(N, Q) - 1:max(N, Q)]
    else:
        raise ValueError(f"mode={mode!r}: expected 'full', 'same' or 'valid'")
    return np.ascontiguousarray(_round(y, dt))


def convolve2d(a, k, mode="full"):
    """scipy.signal.convolve2d semantics (zero fill)."""
    return _signal(a, k, mode, correlate=False)


def correlate2d(a, k, mode="full"):
    """scipy.signal.correlate2d semantics: convolution with rot180(conj(k))."""
    return _signal(a, k, mode, correlate=True)
