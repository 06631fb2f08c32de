"""scipy backends: the conv layer in one, two and three spatial dimensions on two scipy engines, plus
the signal ops and the FFT path.

* ``scipy`` -- conv1d/conv2d/conv3d from ``scipy.signal.correlate(..., 'valid', method='direct')`` over
  the N-D planes of one input channel (:func:`_strided_correlate`), summed over the channels of the group;
  also convolve2d/correlate2d and the library ops the real-world claims call.
* ``scipy-ndimage`` -- conv1d/conv2d/conv3d from ``scipy.ndimage.correlate``, whose boundary modes give
  ``padding_mode`` (:func:`_ndimage_planes`).
* ``scipy-fft`` -- conv2d and convolve2d through ``signal.fftconvolve`` (accuracy class 'fast').

All convs compute, per spatial axis a (stride s, dilation d, kernel length k, padding (before, after))::

    y[n, o, i] = b[o] + sum_{c < C/G} sum_u xp[n, g(o) C/G + c, i s + u d] w[o, c, u]

with xp the input padded by (before, after) per axis (zeros, or the ``padding_mode``), i and u
multi-indices, and an output of floor((L + before + after - d (k - 1) - 1) / s) + 1 per axis, in the
dtype of x.  :func:`conv_args` reads every padding form the contract accepts.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass

import numpy as np
import scipy
from scipy import ndimage, signal

from convspec.backends._util import pair
from convspec.backends.base import Backend, Capabilities
from convspec.backends.registry import builtin

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
#: torch's padding_mode -> np.pad's mode (used only to materialise paddings ndimage cannot produce)
_NP_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
#: torch's padding_mode -> ndimage's boundary mode (https://docs.scipy.org/doc/scipy/reference/generated/
#: scipy.ndimage.correlate.html): 'mirror' reflects about the edge sample without repeating it (torch
#: reflect; ndimage's own 'reflect' repeats it, np.pad 'symmetric'); 'wrap' is periodic ('grid-wrap' is its
#: synonym for filters: scipy/ndimage/_ni_support.py _extend_mode_to_code(is_filter=True))
_NDIMAGE_MODE = {"zeros": "constant", "reflect": "mirror", "replicate": "nearest", "circular": "wrap"}


# -- arguments -------------------------------------------------------------------------------------------

def _int(v, name: str) -> int:
    """A Python or numpy integer (not a bool, not a float) -> int."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name}: expected an integer, not the bool {v!r}")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{name}: expected an integer, not {type(v).__name__} {v!r}") from None


def _per_axis(v, rank: int, name: str) -> list:
    """An int, or a tuple/list/array of ``rank`` entries -> a list of ``rank`` entries."""
    if isinstance(v, np.ndarray) and v.ndim >= 1:
        v = v.tolist()
    if isinstance(v, (tuple, list)):
        if len(v) != rank:
            raise ValueError(f"{name}={v!r}: expected an int or {rank} entries (one per spatial axis)")
        return list(v)
    return [v] * rank


@dataclass(frozen=True)
class ConvArgs:
    """Normalised per-axis conv arguments: stride, (before, after) padding and dilation, one entry per
    spatial axis."""

    stride: tuple
    pads: tuple
    dilation: tuple

    def out_shape(self, spatial, kernel) -> tuple:
        """floor((L + before + after - d (k - 1) - 1) / s) + 1 per axis."""
        return tuple((L + pb + pa - d * (k - 1) - 1) // s + 1
                     for L, k, s, (pb, pa), d in zip(spatial, kernel, self.stride, self.pads, self.dilation))


def conv_args(rank: int, kernel, stride=1, padding=0, dilation=1) -> ConvArgs:
    """Read the contract's stride/padding/dilation for a conv with ``rank`` spatial axes and kernel lengths
    ``kernel``.

    stride, dilation: an int or ``rank`` ints (numpy integers allowed), each >= 1.  padding: an int; ``rank``
    ints (symmetric per axis); ``rank`` (before, after) pairs (explicit, asymmetric allowed; an int and a
    pair may be mixed); 'valid' (none); or 'same' (stride 1 only: d (k - 1) per axis, d (k - 1) // 2 before
    and the rest after -- the extra element of an even dilated kernel goes at the end, torch's rule).
    Every padding >= 0.  Anything else raises a ValueError or TypeError naming the argument.
    """
    s = tuple(_int(t, "stride") for t in _per_axis(stride, rank, "stride"))
    d = tuple(_int(t, "dilation") for t in _per_axis(dilation, rank, "dilation"))
    if min(s) < 1 or min(d) < 1:
        raise ValueError(f"stride={stride!r}, dilation={dilation!r}: every entry must be >= 1")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * rank
        elif padding == "same":
            if s != (1,) * rank:
                raise ValueError(f"padding='same' needs stride 1 on every axis, not stride={stride!r}")
            tot = [dd * (k - 1) for k, dd in zip(kernel, d)]
            pads = tuple((t // 2, t - t // 2) for t in tot)
        else:
            raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int, {rank} ints or {rank} "
                             "(before, after) pairs")
    else:
        pads = []
        for t in _per_axis(padding, rank, "padding"):
            if isinstance(t, (tuple, list)):
                if len(t) != 2:
                    raise ValueError(f"padding={padding!r}: the pair {t!r} is not (before, after)")
                pads.append((_int(t[0], "padding"), _int(t[1], "padding")))
            else:
                pads.append((_int(t, "padding"),) * 2)
        pads = tuple(pads)
        if min(min(p) for p in pads) < 0:
            raise ValueError(f"padding={padding!r}: every padding must be >= 0")
    return ConvArgs(s, pads, d)


def _layer_geometry(rank, x, w, b, groups, stride, padding, dilation):
    """Validate shapes and arguments; return (ConvArgs, output spatial shape)."""
    if x.ndim != rank + 2 or w.ndim != rank + 2:
        raise ValueError(f"conv{rank}d: x {x.shape} and w {w.shape} must both have N/C_out, C_in(/groups) and "
                         f"{rank} spatial axes")
    g = _int(groups, "groups")
    if g < 1 or x.shape[1] != g * w.shape[1] or w.shape[0] % g:
        raise ValueError(f"conv{rank}d: groups={groups!r} does not fit x {x.shape} and w {w.shape} (needs "
                         "C_in = groups * w.shape[1] and C_out divisible by groups)")
    if b is not None and np.shape(b) != (w.shape[0],):
        raise ValueError(f"conv{rank}d: bias of shape {np.shape(b)}, expected ({w.shape[0]},)")
    args = conv_args(rank, w.shape[2:], stride, padding, dilation)
    out = args.out_shape(x.shape[2:], w.shape[2:])
    if min(out, default=1) < 1:
        raise ValueError(f"conv{rank}d: the dilated kernel {w.shape[2:]} (dilation {args.dilation}) is larger than "
                         f"the padded input {x.shape[2:]} + {args.pads}: empty output {out}")
    return args, out


def _layer(rank, x, w, b, groups, stride, padding, dilation, planes, acc_dtype, prepare=None):
    """The conv layer from a per-channel engine: ``planes(xc, k, args, out)`` returns the (N, *out)
    correlation of one input channel xc (N, *spatial) with one kernel k, in ``acc_dtype``; the channels of
    a group are summed in order, then the bias is added, then the sum is rounded to the dtype of x.
    ``prepare(x, args)`` may rewrite the input and the arguments first (materialised padding)."""
    x, w, b = np.asarray(x), np.asarray(w), None if b is None else np.asarray(b)
    args, out = _layer_geometry(rank, x, w, b, groups, stride, padding, dilation)
    if prepare is not None:
        x, args = prepare(x, args)
    n = x.shape[0]
    o_total, cg = w.shape[:2]
    og = o_total // _int(groups, "groups")
    y = np.empty((n, o_total) + out, dtype=x.dtype)
    if y.size == 0:
        return y
    for o in range(o_total):
        g = o // og
        acc = None
        for c in range(cg):
            r = planes(x[:, g * cg + c], w[o, c], args, out)
            acc = r if acc is None else acc + r
        if acc is None:
            acc = np.zeros((n,) + out, dtype=acc_dtype)
        y[:, o] = acc + (b[o] if b is not None else 0)
    return y


# -- the "scipy" engine: signal.correlate on phases --------------------------------------------------------

def _phases(n_out: int, s: int, d: int) -> dict:
    """{r: (output indices, phase indices)} on one axis: output i starts at i*s = r + d*q, i.e. at phase
    r = (i*s) % d, entry q = (i*s) // d of the phase plane xp[r::d], whose entries q + u are the taps u."""
    out = {}
    for i in range(n_out):
        r, q = (i * s) % d, (i * s) // d
        ii, qq = out.setdefault(r, ([], []))
        ii.append(i)
        qq.append(q)
    return {r: (np.array(ii), np.array(qq)) for r, (ii, qq) in sorted(out.items())}


def _strided_correlate(planes, k, stride, dilation, out):
    """res[n, i] = sum_u planes[n, i*s + u*d] k[u] per axis (i, u multi-indices) over the valid range,
    through ``signal.correlate(..., 'valid', method='direct')`` on N-D planes (any rank).

    Dilation is done by phases, never by a kernel with zeros inserted: on each axis, output i reads the
    entries q + u of the phase plane planes[r::d] with r = (i*s) % d, q = (i*s) // d (:func:`_phases`).
    Only the taps of the definition are multiplied, so a NaN or Inf between the dilated taps does not
    reach the output.  ``planes`` has a leading batch axis (the kernel gets a length-1 one).
    """
    n = planes.shape[0]
    dt = np.result_type(planes, k)
    planes, k = planes.astype(dt, copy=False), np.asarray(k, dtype=dt)
    res = np.empty((n,) + tuple(out), dtype=dt)
    axes = [list(_phases(o, s, d).items()) for o, s, d in zip(out, stride, dilation)]
    batch = np.arange(n)
    for combo in itertools.product(*axes):
        # the phase plane, cut after the last entry any output of this phase reads
        idx = tuple(slice(r, r + d * (int(qq[-1]) + kk - 1) + 1, d)
                    for (r, (_, qq)), d, kk in zip(combo, dilation, k.shape))
        full = signal.correlate(planes[(slice(None),) + idx], k[None], mode="valid", method="direct")
        res[np.ix_(batch, *[ii for _, (ii, _) in combo])] = full[np.ix_(batch, *[qq for _, (_, qq) in combo])]
    return res


def _signal_planes(xc, k, args, out):
    return _strided_correlate(xc, k, args.stride, args.dilation, out)


def _zero_pad(x, args):
    """The input zero-padded by (before, after) per axis (signal.correlate is zero fill)."""
    return np.pad(x, ((0, 0), (0, 0), *args.pads)), ConvArgs(args.stride, ((0, 0),) * len(args.pads), args.dilation)


def _signal_conv(rank):
    def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode={padding_mode!r}: this backend pads with zeros only "
                             "(scipy.signal.correlate is zero fill)")
        x, w = np.asarray(x), np.asarray(w)
        return _layer(rank, x, w, b, groups, stride, padding, dilation, _signal_planes, np.result_type(x, w),
                      prepare=_zero_pad)
    conv.__name__ = conv.__qualname__ = f"conv{rank}d"
    conv.__doc__ = (f"conv{rank}d = sum over the input channels of the group of signal.correlate(xp[:, c], w[o, c], "
                    "'valid', method='direct') on each phase of the stride and dilation (:func:`_strided_correlate`); "
                    "accumulates in result_type(x, w), returns the dtype of x.")
    return conv


conv1d, conv2d, conv3d = (_signal_conv(r) for r in (1, 2, 3))


# -- the "scipy-ndimage" engine ---------------------------------------------------------------------------
#
# ndimage.correlate(x, K, mode, origin)[i] = sum_j x_ext[i + j - c] K[j] per axis, with the centre
# c = len(K) // 2 + origin (even kernels: the later of the two middle taps), origin restricted to
# -(len(K) // 2) <= origin <= (len(K) - 1) // 2 (i.e. 0 <= c < len(K)), x_ext the input extended by the
# boundary mode, and an output of the input's shape.  (ndimage.correlate docs; scipy/scipy#23978.)
# Two properties of its C loop (scipy/ndimage/src/ni_filters.c, NI_Correlate) shape this adapter:
#
# * it computes in float64 whatever the data type (the input is read as double, the weights are
#   converted to float64), and rounds once to the output type;
# * it keeps only the taps with fabs(weight) > DBL_EPSILON (its "footprint"): zero weights are never
#   multiplied (0 * NaN is not formed) and neither are NaN weights, nor nonzero weights of at most 2**-52.
#
# So the dilated kernel (zeros between the taps) reads no input between the taps, as the definition
# requires; weights of at most 2**-52 go in separate calls scaled by a power of two (exact); and the terms
# the footprint drops (0 * x, NaN * x) are added back with numpy only where they matter: a NaN weight, or a
# zero weight over a non-finite input.

_EPS = np.finfo(np.float64).eps          # DBL_EPSILON = 2**-52


def _weight_bands(k):
    """Split a float64 kernel into (exponent e, part) with part * 2**e free of weights ndimage would drop:
    e = 0 for the weights above DBL_EPSILON (Inf included); the nonzero finite weights of at most
    DBL_EPSILON in bands of 51 binades, each scaled by 2**e to lie in [2**-51, 1) (so no product overflows
    that did not before).  Returns (bands, dropped) with dropped the mask of zero and NaN weights."""
    a = np.abs(k)
    big = a > _EPS                                         # False for NaN
    small = (a > 0) & ~big
    bands = [(0, np.where(big, k, 0.0))] if big.any() else []
    if small.any():
        _, ex = np.frexp(k)                                # |k| = f 2**ex, f in [0.5, 1)
        todo = small.copy()
        while todo.any():
            lo = int(ex[todo].min())
            sel = todo & (ex <= lo + 50)
            e = -50 - lo                                   # 2**(lo - 1 + e) = 2**-51 > DBL_EPSILON
            bands.append((e, np.where(sel, np.ldexp(k, e), 0.0)))
            todo &= ~sel
    dropped = ~(big | small)                               # zeros and NaNs
    return bands, dropped


def _dilated(k, args):
    """The kernel with d - 1 zeros between taps and zeros appended so that the tap u sits at offset
    u*d - before from the centre (the centre, ``before``, must lie inside the array): returns (K, origin)."""
    shape = tuple(max(d * (kk - 1) + 1, pb + 1) for kk, d, (pb, _) in zip(k.shape, args.dilation, args.pads))
    K = np.zeros(shape)
    K[tuple(slice(0, d * (kk - 1) + 1, d) for kk, d in zip(k.shape, args.dilation))] = k
    origin = tuple(pb - n // 2 for (pb, _), n in zip(args.pads, shape))
    return K, origin


def _check_mode_limits(mode, spatial, pads):
    """torch's limits (the contract's): reflect needs every pad < L, circular every pad <= L."""
    if mode == "reflect" and any(p >= L for L, pp in zip(spatial, pads) for p in pp):
        raise ValueError(f"padding_mode='reflect' needs every padding below the input size: pads {pads} for "
                         f"spatial shape {tuple(spatial)}")
    if mode == "circular" and any(p > L for L, pp in zip(spatial, pads) for p in pp):
        raise ValueError(f"padding_mode='circular' needs every padding at most the input size: pads {pads} for "
                         f"spatial shape {tuple(spatial)}")


def _ndimage_conv(rank):
    def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
        if padding_mode not in _NDIMAGE_MODE:
            raise ValueError(f"padding_mode={padding_mode!r}: expected one of {', '.join(PADDING_MODES)}")
        x, w = np.asarray(x), np.asarray(w)
        finite = bool(np.isfinite(x).all())
        kernel = w.shape[2:]

        def prepare(xx, args):
            # ndimage returns the input's extent L and the conv's outputs sit at i*s, so its boundary mode
            # can make the padding only where (out - 1) s <= L - 1 (every padding of d (k - 1) in all or
            # less, 'same' included); on the other axes the padding is materialised with np.pad, same mode
            _check_mode_limits(padding_mode, xx.shape[2:], args.pads)
            out = args.out_shape(xx.shape[2:], kernel)
            far = [(o - 1) * s > L - 1 for o, s, L in zip(out, args.stride, xx.shape[2:])]
            if not any(far):
                return xx, args
            pre = tuple(pp if f else (0, 0) for pp, f in zip(args.pads, far))
            xx = np.pad(xx, ((0, 0), (0, 0), *pre), mode=_NP_MODE[padding_mode])
            return xx, ConvArgs(args.stride, tuple((0, 0) if f else pp for pp, f in zip(args.pads, far)),
                                args.dilation)

        def planes(xc, k, args, out):
            return _ndimage_planes(xc, k, args, out, padding_mode, finite)

        return _layer(rank, x, w, b, groups, stride, padding, dilation, planes, np.float64, prepare=prepare)
    conv.__name__ = conv.__qualname__ = f"conv{rank}d_ndimage"
    conv.__doc__ = (f"conv{rank}d = sum over the input channels of the group of scipy.ndimage.correlate(x[:, c], "
                    "w[o, c] dilated, mode=padding_mode's ndimage mode, origin=before), read at i*s (see "
                    ":func:`_ndimage_planes`); float64 throughout, rounded once to the dtype of x.")
    return conv


def _ndimage_planes(xc, k, args, out, mode, finite):
    """The float64 (N, *out) correlation of one input channel xc (N, *L) with the kernel k, padded by
    args.pads in ``mode``, via ndimage.correlate over the spatial axes.

    With K the dilated kernel (tap u at index u*d) and the centre c = before (origin = before - len(K)//2),
    ndimage's z[i] = sum_u x_ext[i - before + u*d] k[u] = sum_u xp[i + u*d] k[u]: the conv's output o is
    z[o*s] (the prepare step guarantees (out - 1) s <= L - 1).  Weights ndimage would drop are handled as
    in :func:`_weight_bands`; the dropped zero/NaN terms are added back where they are not +-0.
    """
    axes = tuple(range(1, xc.ndim))
    kk = np.asarray(k, dtype=np.float64)
    sel = (slice(None),) + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out, args.stride))
    bands, dropped = _weight_bands(kk)
    z = None
    for e, part in bands:
        K, origin = _dilated(part, args)
        r = ndimage.correlate(xc, K, output=np.float64, mode=_NDIMAGE_MODE[mode], cval=0.0, origin=origin,
                              axes=axes)[sel]
        r = np.ldexp(r, -e) if e else r
        z = r if z is None else z + r
    if z is None:
        z = np.zeros((xc.shape[0],) + tuple(out))
    if dropped.any() and (not finite or np.isnan(kk).any()):
        xp = np.pad(xc.astype(np.float64), ((0, 0), *args.pads), mode=_NP_MODE[mode])
        with np.errstate(invalid="ignore"):
            for u in zip(*np.nonzero(dropped)):
                win = (slice(None),) + tuple(slice(ui * d, ui * d + (o - 1) * s + 1, s)
                                             for ui, d, s, o in zip(u, args.dilation, args.stride, out))
                z = z + kk[u] * xp[win]
    return z


conv1d_ndimage, conv2d_ndimage, conv3d_ndimage = (_ndimage_conv(r) for r in (1, 2, 3))


# -- the "scipy-fft" engine ---------------------------------------------------------------------------------

def conv2d_fft(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv layer through signal.fftconvolve with the rotated (dilated) kernel, summed over channels."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    o, cg, kh, kw = w.shape
    og = o // groups
    wd = np.zeros((o, cg, dh * (kh - 1) + 1, dw * (kw - 1) + 1), dtype=w.dtype)
    wd[:, :, ::dh, ::dw] = w
    parts = []
    for g in range(groups):
        xs = xp[:, None, g * cg:(g + 1) * cg]                       # (N, 1, C/G, H, W)
        ks = wd[None, g * og:(g + 1) * og, :, ::-1, ::-1]           # (1, O/G, C/G, kh, kw)
        parts.append(signal.fftconvolve(xs, ks, mode="valid", axes=(-2, -1)).sum(axis=2))
    y = np.concatenate(parts, axis=1)[:, :, ::sh, ::sw]
    if b is not None:
        y = y + b[None, :, None, None]
    return y.astype(x.dtype, copy=False)


def convolve2d_fft(a, k, mode="full"):
    return signal.fftconvolve(a, k, mode=mode)


#: where scipy.signal departs from the contract (audited: specs/libraries/findings_scipy.py)
DEPARTURES = {"correlate2d-matches-definition": {
    "statement": "correlate2d(a, k, 'valid') of complex data returns the conjugate of the definition when k is the "
                 "larger input", "source": "found by convspec",
    "claim": "scipy-correlate2d-valid-kernel-larger-conjugates",
    "upstream": "none found: closest scipy/scipy#12685 (open), scipy/scipy#5954 (closed)",
    "observed": "[[0, 1j]]", "expected": "[[0, -1j]]", "counterexample": "a1x1_k1x2_valid_c128_int",
    "repro": "docs/repros/scipy_correlate2d_valid_swap_conj.py"}}

#: the dtypes scipy.signal.convolve2d/correlate2d accept (float16 and bfloat16 raise: "not available for this type")
SIGNAL_DTYPES = ("f64", "f32", "i8", "i16", "i32", "i64", "c128")


@builtin("scipy")
def _scipy():
    ops = {"conv2d": conv2d, "convolve2d": signal.convolve2d, "correlate2d": signal.correlate2d,
           "conv1d": conv1d, "conv3d": conv3d,
           "scipy.signal.convolve": signal.convolve, "scipy.signal.correlate": signal.correlate,
           "scipy.signal.fftconvolve": signal.fftconvolve, "scipy.ndimage.convolve": ndimage.convolve,
           "scipy.ndimage.correlate": ndimage.correlate}
    # scipy.signal takes integer and complex data (the signal ops' domain); float16 it refuses
    return Backend("scipy", ops, Capabilities(dtypes=SIGNAL_DTYPES, examples=0.5, padding_strings=True,
                                              padding_pairs=True),
                   library="scipy", version=scipy.__version__, departures=DEPARTURES)


@builtin("scipy-ndimage")
def _scipy_ndimage():
    ops = {"conv1d": conv1d_ndimage, "conv2d": conv2d_ndimage, "conv3d": conv3d_ndimage}
    return Backend("scipy-ndimage", ops, Capabilities(dtypes=("f64", "f32"), examples=0.5, padding_strings=True,
                                                      padding_modes=PADDING_MODES, padding_pairs=True),
                   library="scipy", version=scipy.__version__)


@builtin("scipy-fft")
def _scipy_fft():
    ops = {"conv2d": conv2d_fft, "convolve2d": convolve2d_fft}
    return Backend("scipy-fft", ops, Capabilities(dtypes=("f64", "f32", "c128"), accuracy="fast"), library="scipy",
                   version=scipy.__version__)
