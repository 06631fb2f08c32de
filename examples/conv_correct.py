"""An example implementation to gate: conv2d by strided windows in numpy.  Correct.

    pytest --impl examples/conv_correct.py --backends none      # or: convspec gate examples/conv_correct.py

The newcomer test (tests/integration/test_newcomer.py) gates it, and its broken twin conv_broken.py,
from a fresh virtual environment with the installed wheel.
"""

import numpy as np

NAME = "example"
CAPABILITIES = {"dtypes": ["f64", "f32"], "max_size": 16, "timeout": 30}


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, _flip=False):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh, ow = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, max(oh, 0), max(ow, 0)), dtype=np.float64)
    if oh > 0 and ow > 0:
        xp = np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        k = np.asarray(w, np.float64)[:, :, ::-1, ::-1] if _flip else np.asarray(w, np.float64)
        og = o // groups
        for g in range(groups):
            xs = xp[:, g * cg:(g + 1) * cg]
            for i in range(kh):
                for j in range(kw):
                    win = xs[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
                    y[:, g * og:(g + 1) * og] += np.einsum("ncij,oc->noij", win, k[g * og:(g + 1) * og, :, i, j])
    if b is not None:
        y += np.asarray(b, np.float64)[None, :, None, None]
    return y.astype(x.dtype)
