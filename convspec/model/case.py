"""A case: a problem plus its data, either drawn value by value or filled from a seed.

Data regimes (the problem's ``regime`` field):

* ``int`` -- small integers (range :func:`int_range` by dtype), so that direct algorithms are exact
  and are compared bit for bit;
* ``dya`` -- dyadic fractions of bounded bit width, scaled across large and tiny exponents:
  x = m_x 2**e_x, w = m_w 2**e_w with integers |m_x| <= 2**b_x, |m_w| <= 2**b_w and one exponent per
  array (:func:`dyadic_plan`).  The widths use the whole accumulator: b_x + b_w + ceil(log2(K+1)) =
  p_acc - 2 (two spare bits), so every product and partial sum is exact in any order (every correct
  implementation is bit-identical) while the sums need more bits than a too-narrow accumulator has
  (an fp16 accumulator, or float32 accumulation of float64 data, is caught at every K);
* ``flt`` -- real floats with negatives and mixed magnitudes: one of normal(0,1), |normal| (no
  cancellation: the worst case for relative error), or normal * 2**U{-8..8}.

:func:`fill` is deterministic in (problem, seed), so ``descriptor + seed`` reproduces a large case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from convspec.model.problem import Problem, SignalProblem, np_dtype, parse_any


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
    """Cast float64 values into the problem dtype, rounding to nearest even (bf16: ``ml_dtypes.bfloat16``
    arrays, rounded to 8 significant bits through float32 -- exact, as the rounded values are
    representable -- so no double rounding)."""
    if dtype == "c128":
        return np.asarray(values, dtype=np.complex128)
    v = np.asarray(values, dtype=np.float64)
    if dtype == "bf16":
        r = round_significand(v.astype(np.float32), 8)
        return r.astype(np_dtype("bf16"))
    return v.astype(np_dtype(dtype))


def int_range(dtype: str) -> int:
    """Magnitude bound R of int-regime data: exact for every K the strategies draw."""
    return {"f16": 2, "bf16": 2, "i8": 3}.get(dtype, 4)


def exponent_range(dtype: str) -> tuple[int, int]:
    """Binary exponents of flt-regime magnitudes: wide, but no overflow/underflow for any K drawn."""
    return (-4, 2) if dtype == "f16" else (-8, 8)


#: significand bits a dyadic mantissa may use per data dtype (its format's own significand)
DYADIC_INPUT_BITS = {"f64": 53, "f32": 24, "f16": 11, "bf16": 8}
#: exponent window of dyadic data (keeps squares and FFT norms finite)
DYADIC_WINDOW = {"f64": 200, "f32": 40, "bf16": 40, "f16": 14}
_ACC_BITS = {"f64": 53, "f32": 24, "f16": 24, "bf16": 24}
_LIMITS = {  # data dtype -> (log2 smallest normal, floor log2 largest finite)
    "f64": (-1022, 1023), "f32": (-126, 127), "bf16": (-126, 127), "f16": (-14, 15)}
_ACC_LIMITS = {"f64": (-1022, 1023), "f32": (-126, 127), "bf16": (-126, 127), "f16": (-126, 127)}


@dataclass(frozen=True)
class DyadicPlan:
    """Widths and exponents of one dyadic case: x = m_x 2**ex (|m_x| <= 2**bx), w = m_w 2**ew
    (|m_w| <= 2**bw), bias = m_b 2**(ex + ew + shift) (|m_b| <= 2**pb)."""

    bx: int
    bw: int
    ex: int
    ew: int
    pb: int
    shift: int


def dyadic_limits(dtype: str, k_terms: int) -> tuple[int, int]:
    """(total, cap): the mantissa bits of one product, total = p_acc - 2 - ceil(log2(K+1)) (so that
    bx + bw + ceil(log2(K+1)) <= p_acc - 2), and the most bits one factor may use."""
    total = max(2, _ACC_BITS[dtype] - 2 - int(np.ceil(np.log2(k_terms + 1))))
    return total, DYADIC_INPUT_BITS[dtype]


def dyadic_split(total: int, cap: int, pick) -> tuple[int, int]:
    """Split ``total`` product bits into (bx, bw), each within ``cap``; x takes the larger share, so
    that x often needs more than TF32's 11 bits (a float32 backend that rounds its inputs to TF32 is
    then caught exactly)."""
    lo = max(1, total - cap)
    if pick(0, 1):                      # x as wide as the budget allows
        return min(cap, total - lo), lo
    bw = pick(lo, max(lo, min(cap, total // 2)))
    return min(cap, total - bw), bw


def dyadic_plan(dtype: str, k_terms: int, pick, widths=None, window: int | None = None) -> DyadicPlan:
    """Choose a :class:`DyadicPlan` with ``pick(lo, hi)`` (a seeded rng or a hypothesis draw).

    Constraints: every datum is a normal number of ``dtype``; every product is a normal number of the
    accumulator and every nonzero output a normal number of the output format (2**(ex+ew) >= tiny),
    and the largest possible output fits the output format.  ``widths`` fixes (bx, bw)."""
    if dtype not in _ACC_BITS:
        raise ValueError(f"the dyadic regime covers float dtypes only, not {dtype!r}")
    if widths is None:
        widths = dyadic_split(*dyadic_limits(dtype, k_terms), pick)
    bx, bw = widths
    lo_d, hi_d = _LIMITS[dtype]
    lo_a, hi_a = _ACC_LIMITS[dtype]
    win = DYADIC_WINDOW[dtype] if window is None else window
    big = int(np.ceil(np.log2(k_terms + 1)))
    lo_s = max(lo_a, lo_d if dtype in ("f16", "bf16") else lo_a, -2 * win)
    hi_s = min(min(hi_a, hi_d) - bx - bw - big - 1, 2 * win)
    e_sum = pick(lo_s, max(lo_s, hi_s))
    lo_x = max(lo_d, e_sum - (hi_d - bw), -win)
    hi_x = min(hi_d - bx, e_sum - lo_d, win)
    ex = pick(lo_x, max(lo_x, hi_x))
    p_data = {"f64": 53, "f32": 24, "f16": 11, "bf16": 8}[dtype]
    pb = min(bx + bw, p_data)
    return DyadicPlan(bx, bw, ex, e_sum - ex, pb, bx + bw - pb)


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
    if problem.regime == "dya":
        plan = dyadic_plan(problem.dtype, kterms_of(problem), lambda lo, hi: int(rng.integers(lo, hi + 1)))
        return {name: cast(v, problem.dtype) for name, v in dyadic_values(plan, shapes, rng).items()}
    for name, shape in shapes.items():
        if problem.regime == "int":
            r = int_range(problem.dtype)
            vals = rng.integers(-r, r + 1, size=shape).astype(np.float64)
        else:
            vals = _flt(rng, shape, flavour, problem.dtype)
        if problem.dtype == "c128":           # complex data: an independent imaginary part
            imag = (rng.integers(-int_range("f64"), int_range("f64") + 1, size=shape) if problem.regime == "int"
                    else _flt(rng, shape, flavour, "f64"))
            vals = vals + 1j * imag
        out[name] = cast(vals, problem.dtype)
    return out


def kterms_of(problem) -> int:
    """K (terms per output) of a conv problem, or an upper bound prod(min(a_d, k_d)) for a signal one."""
    if isinstance(problem, Problem):
        return problem.k_terms
    return int(np.prod([min(m, q) for m, q in zip(problem.a, problem.k)]))


def dyadic_values(plan: DyadicPlan, shapes: dict, rng) -> dict:
    """Seeded dyadic arrays (float64) for ``shapes`` with names x/w/b or a/k, following ``plan``."""
    out = {}
    for name, shape in shapes.items():
        if name in ("x", "a"):
            bits, e = plan.bx, plan.ex
        elif name in ("w", "k"):
            bits, e = plan.bw, plan.ew
        else:
            bits, e = plan.pb, plan.ex + plan.ew + plan.shift
        m = rng.integers(-2 ** bits, 2 ** bits + 1, size=shape).astype(np.float64)
        out[name] = np.ldexp(m, e)
    return out


@dataclass
class Case:
    """One drawn input: problem + arrays (+ the seed they came from, if any)."""

    problem: Problem | SignalProblem
    arrays: dict = field(default_factory=dict)
    seed: int | None = None
    form: object | None = None       # how the arrays and arguments are passed (convspec.model.forms.CallForm), or None
    kwargs: dict | None = None       # the op's keyword arguments when the problem cannot say them (padding='same',
                                     # padding_mode): a covering-array row's call (convspec.drawing.coverage.Row.kwargs)

    @classmethod
    def seeded(cls, problem, seed: int) -> "Case":
        return cls(problem, fill(problem, seed), seed)

    @classmethod
    def dyadic(cls, problem, seed: int, window: int) -> "Case":
        """Dyadic data like :func:`fill`'s, with exponents within +-``window`` (e.g. float64 data that
        a float32 accumulator would not overflow on).  Not reproducible from a descriptor alone."""
        rng = np.random.default_rng([int(seed), 0xD7AD])
        shapes = {"x": problem.x_shape, "w": problem.w_shape, **({"b": problem.b_shape} if problem.bias else {})}
        plan = dyadic_plan(problem.dtype, kterms_of(problem), lambda lo, hi: int(rng.integers(lo, hi + 1)),
                           window=window)
        return cls(problem, {k: cast(v, problem.dtype) for k, v in dyadic_values(plan, shapes, rng).items()})

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

    def _repr_pretty_(self, printer, cycle) -> None:
        """Hypothesis prints a pinned example's arguments on every run (it keeps the text in case the example
        fails): the short :meth:`__repr__`, not a field-by-field dump of the arrays (9 ms a row)."""
        printer.text(repr(self))


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
