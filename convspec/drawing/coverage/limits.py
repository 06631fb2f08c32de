"""The index-limit tier: one extent at 65535, 65536 and 65537 (2**16 - 1, 2**16, 2**16 + 1: where 16-bit
indices, 64 Ki-element tiles and grid limits wrap), every other extent tiny.

Per op: the batch N, C_in, C_out and the widest spatial axis (the last one; for the signal ops the second axis
of ``a``), each alone, within the declared ``max_*`` capabilities (an extent past a bound is skipped).  Data are
small integers from a fixed seed (exact in every dtype), so a wrapped index shows as a wrong value.
"""

from __future__ import annotations

import numpy as np

from convspec.drawing.coverage.features import kind_of
from convspec.model.case import Case, cast, int_range
from convspec.model.problem import Problem, SignalProblem, TransposeProblem

EXTENTS = (65535, 65536, 65537)


def _le(v, cap):
    return cap is None or v <= cap


def index_limit_cases(op: str, caps) -> list[Case]:
    """The index-limit cases of ``op`` within ``caps`` (int regime, the first declared dtype)."""
    kind, rank = kind_of(op)
    f = getattr(caps, "dtypes_for", None)
    dtypes = tuple(f(kind)) if callable(f) else tuple(caps.dtypes)
    if not dtypes:
        return []
    dt = dtypes[0]
    out = []
    if kind == "signal":
        for v in EXTENTS:
            if _le(v, caps.max_size):
                out.append(Case.seeded(SignalProblem(a=(1, v), k=(1, 2), mode="full", dtype=dt, regime="int"), 1))
        return out
    rank = rank or 2
    cls = Problem if kind == "conv" else TransposeProblem
    for axis in ("n", "c", "o", "w"):
        for v in EXTENTS:
            kw = dict(n=1, c=1, o=1, spatial=(1,) * (rank - 1) + (2,), kernel=(1,) * (rank - 1) + (2,),
                      dtype=dt, regime="int")
            if axis == "w":
                if not _le(v, caps.max_size):
                    continue
                kw["spatial"] = (1,) * (rank - 1) + (v,)
            else:
                cap = {"n": caps.max_batch, "c": caps.max_channels, "o": caps.max_channels}[axis]
                if not _le(v, cap):
                    continue
                kw[axis] = v
            case = Case.seeded(cls(**kw), 1)
            if kind == "weight":      # the weight gradient also takes the forward input (N, O, L'...)

                rng = np.random.default_rng([1, 0xF0D])
                r = int_range(dt)
                shape = case.problem.y_shape
                case.arrays["xf"] = cast(rng.integers(-r, r + 1, size=shape).astype(np.float64), dt)
            out.append(case)
    return out
