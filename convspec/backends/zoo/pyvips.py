"""libvips (pyvips with pyvips-binary) as the contract's correlate2d, through ``Image.conv``.

``vips_conv(in, mask, precision)`` is documented as a convolution; measured, it applies the mask without
flipping it (a correlation: it equals scipy.signal.correlate2d on asymmetric masks), with the mask's
centre at (P // 2, Q // 2) and output the input's size, its edges from libvips's own border rule.  The
adapter pads ``a`` with P - 1 / Q - 1 explicit zeros per side (so the border rule never reaches the full
result), runs conv with precision 'float' for float images and 'integer' for integer ones (mask
scale 1, offset 0), and crops (:mod:`._imaging`).  'approximate' precision is a lossy approximation, not
wired.  Because the mask is applied unflipped, it is offered as correlate2d only.
"""

import numpy as np
import pyvips

from convspec.backends.zoo._imaging import check2d, crop, zero_pad

NAME = "pyvips"
__version__ = f"{pyvips.__version__} (libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)})"
CAPABILITIES = {"dtypes": {"signal": ["f64", "f32", "i32", "i16"]}, "timeout": 60}


def correlate2d(a, k, mode="full"):
    """scipy.signal.correlate2d(a, k, mode) through pyvips.Image.conv."""
    a, k = check2d(a, k)
    p, q = k.shape
    padded = zero_pad(a, (p - 1, q - 1))
    img = pyvips.Image.new_from_array(np.ascontiguousarray(padded))
    mask = pyvips.Image.new_from_array(np.asarray(k, dtype=np.float64).tolist(), scale=1, offset=0)
    out = img.conv(mask, precision="float" if a.dtype.kind == "f" else "integer").numpy()
    out = out.reshape(padded.shape)              # a 1x1 image comes back 0-D
    r0, c0 = p // 2, q // 2          # the mask centre: output (i, j) is centred on padded (i, j)
    full = out[r0:r0 + a.shape[0] + p - 1, c0:c0 + a.shape[1] + q - 1]
    return crop(full, a.shape, k.shape, mode, correlate=True)
