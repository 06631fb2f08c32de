"""TF32 emulation on the CPU: what an Ampere-class GPU computes for float32 conv with TF32 allowed.

Each float32 input is rounded to TF32 (a 10-bit stored mantissa, 11 significant bits, round to
nearest even); the products and sums are formed in float32 (torch CPU conv2d on the rounded
values).  It declares accumulation mode "tf32" so the error model applies the TF32 bound.
"""

from __future__ import annotations

import numpy as np

from convspec.backends.base import Backend, Capabilities
from convspec.backends.registry import builtin, get
from convspec.model.case import round_significand


def to_tf32(a):
    """Round float32 values to TF32 precision (11 significant bits)."""
    return round_significand(np.asarray(a, dtype=np.float32), 11)


def conv2d(x, w, b=None, **kw):
    if x.dtype != np.float32:
        raise TypeError(f"TF32 applies to float32 only, got {x.dtype}")
    t = get("torch").op("conv2d")
    return t(to_tf32(x), to_tf32(w), None if b is None else np.asarray(b, np.float32), **kw)


@builtin("tf32-emu")
def _tf32():
    return Backend("tf32-emu", {"conv2d": conv2d, "tf32.round": to_tf32},
                   Capabilities(dtypes=("f32",), mode="tf32"), library="numpy+torch (TF32 emulation)")
