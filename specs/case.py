"""A case: a problem plus its data, either drawn value by value or filled from a seed.

Data regimes (the problem's ``regime`` field):

* ``int`` -- small integers (range :func:`int_range` by dtype), so that direct algorithms are exact
  and are compared bit for bit;
* ``flt`` -- real floats with negatives and mixed magnitudes: one of normal(0,1), |normal| (no
  cancellation: the worst case for relative error), or normal * 2**U{-8..8}.

:func:`fill` is deterministic in (problem, seed), so ``descriptor + seed`` reproduces a large case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .problem import Problem, SignalProblem, parse_any


def round_significand(a, bits: int):
    """Round float32 values to a ``bits``-bit significand, round-to-nearest-even (TF32: 11, bf16: 8)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    i = a.view(np.uint32).astype(np.uint64)
    drop = 24 - bits
    half = np.uint64(1 << (drop - 1))
    lsb = (i >> np.uint64(drop)) & np.uint64(1)
    r = ((i + half - np.uint64(1) + lsb) >> np.uint64(drop)) << np.uint64(drop)
    out = (r & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32)
    return np.where(np.isfinite(a), out, a)


def cast(values, dtype: str):
    """Cast float64 values into the problem dtype (bf16 travels as float32 holding bf16 values)."""
    v = np.asarray(values, dtype=np.float64)
    if dtype == "bf16":
        return round_significand(v.astype(np.float32), 8)
    if dtype == "c128":
        return v.astype(np.complex128)
    from .problem import np_dtype
    return v.astype(np_dtype(dtype))


def int_range(dtype: str) -> int:
    """Magnitude bound R of int-regime data: exact for every K the strategies draw."""
    return {"f16": 2, "bf16": 2, "i8": 3}.get(dtype, 4)


def exponent_range(dtype: str) -> tuple[int, int]:
    """Binary exponents of flt-regime magnitudes: wide, but no overflow/underflow for any K drawn."""
    return (-4, 2) if dtype == "f16" else (-8, 8)


def _flt(rng, shape, flavour: int, dtype: str):
    if flavour == 0:
        return rng.standard_normal(shape)
    if flavour == 1:
        return np.abs(rng.standard_normal(shape))
    lo, hi = exponent_range(dtype)
    return rng.standard_normal(shape) * 2.0 ** rng.integers(lo, hi + 1, size=shape)


def fill(problem, seed: int) -> dict:
    """Deterministic data for ``problem`` from ``seed``: x, w(, b) or a, k."""
    rng = np.random.default_rng([int(seed), 0xC0DE])
    if isinstance(problem, Problem):
        shapes = {"x": problem.x_shape, "w": problem.w_shape}
        if problem.bias:
            shapes["b"] = problem.b_shape
    else:
        shapes = {"a": problem.a, "k": problem.k}
    flavour = int(rng.integers(0, 3))
    out = {}
    for name, shape in shapes.items():
        if problem.regime == "int":
            r = int_range(problem.dtype)
            vals = rng.integers(-r, r + 1, size=shape).astype(np.float64)
        else:
            vals = _flt(rng, shape, flavour, problem.dtype)
        out[name] = cast(vals, problem.dtype)
    return out


@dataclass
class Case:
    """One drawn input: problem + arrays (+ the seed they came from, if any)."""

    problem: Problem | SignalProblem
    arrays: dict = field(default_factory=dict)
    seed: int | None = None

    @classmethod
    def seeded(cls, problem, seed: int) -> "Case":
        return cls(problem, fill(problem, seed), seed)

    def __getattr__(self, name):
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        if name == "b":
            return None
        raise AttributeError(name)

    def copy_arrays(self) -> dict:
        return {k: (None if v is None else np.array(v, copy=True)) for k, v in self.arrays.items()}

    def data_json(self) -> str:
        """The arrays as compact JSON (for inline repro commands)."""
        return json.dumps({k: np.asarray(v).tolist() for k, v in self.arrays.items() if v is not None},
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, problem, text: str) -> "Case":
        data = json.loads(text)
        dt = problem.dtype
        return cls(problem, {k: cast(np.array(v, dtype=np.float64), dt) if dt not in ("i8", "i16", "i32", "i64")
                             else np.array(v, dtype=problem.np_dtype) for k, v in data.items()})

    def numel(self) -> int:
        return int(sum(np.asarray(v).size for v in self.arrays.values() if v is not None))

    def __repr__(self) -> str:
        if self.seed is not None:
            return f"Case({self.problem}, seed={self.seed})"
        body = ", ".join(f"{k}={np.asarray(v).tolist()}" if np.asarray(v).size <= 400 else
                         f"{k}=<{np.asarray(v).dtype} {np.asarray(v).shape}, sha1 "
                         f"{__import__('hashlib').sha1(np.ascontiguousarray(v).tobytes()).hexdigest()[:12]}>"
                         for k, v in self.arrays.items() if v is not None)
        return f"Case({self.problem}, {body})"


def case_from_cli(descriptor: str, seed: int | None = None, data: str | None = None) -> Case:
    """Rebuild a case from the repro command's arguments (descriptor + seed, or inline/npz data)."""
    problem = parse_any(descriptor)
    if data is not None:
        if data.endswith(".npz"):
            with np.load(data) as z:
                return Case(problem, {k: z[k] for k in z.files})
        return Case.from_json(problem, data)
    if seed is None:
        raise ValueError("a case needs --seed or --data")
    return Case.seeded(problem, seed)
