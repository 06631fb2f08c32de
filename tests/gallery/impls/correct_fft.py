"""A correct FFT implementation (scipy.signal.fftconvolve) declaring accuracy 'fast': it is held to the
normwise bound, not the elementwise one.  The transforms run in float64 whatever the data's dtype (an FFT of
float32 data near the format's largest value overflows where the direct sum does not), then one rounding."""
import numpy as np
from scipy import signal

NAME = "correct-fft"
CAPABILITIES = {"accuracy": "fast"}


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    x64 = np.asarray(x, dtype=np.float64)
    xp = np.pad(x64, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    o, cg, kh, kw = w.shape
    wd = np.zeros((o, cg, dh * (kh - 1) + 1, dw * (kw - 1) + 1), dtype=np.float64)
    wd[:, :, ::dh, ::dw] = w
    og = o // groups
    parts = [signal.fftconvolve(xp[:, None, g * cg:(g + 1) * cg], wd[None, g * og:(g + 1) * og, :, ::-1, ::-1],
                                mode="valid", axes=(-2, -1)).sum(axis=2) for g in range(groups)]
    y = np.concatenate(parts, axis=1)[:, :, ::sh, ::sw]
    if b is not None:
        y = y + np.asarray(b, dtype=np.float64)[None, :, None, None]
    return y.astype(x.dtype)
