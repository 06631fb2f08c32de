"""scipy backends: signal.convolve2d/correlate2d (and conv2d built from correlate2d per channel),
and the FFT path (signal.fftconvolve; accuracy class 'fast')."""

from __future__ import annotations

import numpy as np
import scipy
from scipy import ndimage, signal

from . import Backend, Capabilities, builtin
from ._util import pair


def _strided_correlate(plane, k, sh, sw, dh, dw):
    """sum_{u,v} plane[i*sh + u*dh, j*sw + v*dw] k[u, v] over the valid range, through correlate2d.

    Dilation is done by phases, never by a kernel with zeros inserted: output row i reads the rows
    r + dh*(q + u) of the input with r = (i*sh) % dh and q = (i*sh) // dh, i.e. row q + u of the phase
    plane[r::dh] (likewise for columns).  Only the taps of the definition are multiplied, so a NaN or
    Inf between the dilated taps does not reach the output.
    """
    H, W = plane.shape
    kh, kw = k.shape
    ho = (H - dh * (kh - 1) - 1) // sh + 1
    wo = (W - dw * (kw - 1) - 1) // sw + 1
    rows = [((i * sh) % dh, (i * sh) // dh) for i in range(ho)]
    cols = [((j * sw) % dw, (j * sw) // dw) for j in range(wo)]
    out = np.empty((ho, wo), dtype=np.result_type(plane, k))
    for r in sorted({r for r, _ in rows}):
        for t in sorted({t for t, _ in cols}):
            full = signal.correlate2d(plane[r::dh, t::dw], k, mode="valid")
            ii = [i for i, (ri, _) in enumerate(rows) if ri == r]
            jj = [j for j, (tj, _) in enumerate(cols) if tj == t]
            out[np.ix_(ii, jj)] = full[np.ix_([rows[i][1] for i in ii], [cols[j][1] for j in jj])]
    return out


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv layer = sum over input channels of signal.correlate2d(x[n, c], w[o, c], 'valid') (strided and
    dilated by phases, see :func:`_strided_correlate`)."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    og = o // groups
    out = None
    for ni in range(n):
        for oi in range(o):
            g = oi // og
            acc = None
            for ci in range(cg):
                r = _strided_correlate(xp[ni, g * cg + ci], w[oi, ci], sh, sw, dh, dw)
                acc = r if acc is None else acc + r
            if out is None:
                out = np.empty((n, o) + acc.shape, dtype=x.dtype)
            out[ni, oi] = acc + (b[oi] if b is not None else 0)
    return out


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


@builtin("scipy")
def _scipy():
    ops = {"conv2d": conv2d, "convolve2d": signal.convolve2d, "correlate2d": signal.correlate2d,
           "scipy.signal.convolve": signal.convolve, "scipy.signal.correlate": signal.correlate,
           "scipy.signal.fftconvolve": signal.fftconvolve, "scipy.ndimage.convolve": ndimage.convolve,
           "scipy.ndimage.correlate": ndimage.correlate}
    return Backend("scipy", ops, Capabilities(dtypes=("f64", "f32"), examples=0.5), library="scipy",
                   version=scipy.__version__)


@builtin("scipy-fft")
def _scipy_fft():
    ops = {"conv2d": conv2d_fft, "convolve2d": convolve2d_fft}
    return Backend("scipy-fft", ops, Capabilities(dtypes=("f64", "f32"), accuracy="fast"), library="scipy",
                   version=scipy.__version__)
