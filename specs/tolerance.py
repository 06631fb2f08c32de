"""The error model: how far a correct result may lie from the exact one, per element.

Notation: u is the unit roundoff of a format (2**-p for a p-bit significand, round to nearest),
K the number of products summed per output (C/G*kH*kW, +1 with a bias) and
S = sum |x||w| + |b| the absolute sum at that output (:func:`reference.abs_sum`).

Direct sums (direct loops, im2col+GEMM, any summation order or blocking, with or without FMA)::

    |y_hat - y| <= c_K * S  +  e_in * S  +  u_out * |y|  +  gamma_K(f64) * S

* ``c_K = min(gamma_K, gtilde_K(lam))`` where ``gamma_K = K u / (1 - K u)`` is the worst-case bound
  (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., Lemma 3.1/eq. 3.5) and
  ``gtilde_K(lam) = exp(lam sqrt(K) u + K u^2/(1-u)) - 1`` the probabilistic bound of Higham & Mary
  (SIAM J. Sci. Comput. 41(5), 2019, Thm 2.4).  For the first-order error sum_i s_i delta_i
  (|delta_i| <= u, mean independent), Azuma-Hoeffding gives P(|err| > lam sqrt(K) u S) <=
  2 exp(-lam^2/2) even under the pessimistic |s_i| <= S; real partial sums (|s_i| ~ (i/K) S,
  rounding errors ~uniform) put the bound at >= 12 standard deviations.  lam = 4 (:data:`LAMBDA`)
  keeps a relative error of 3e-6 visible in float32 for K up to ~150 (see tests/test_tolerance.py).
* ``e_in`` is the input rounding of a reduced-precision mode (TF32: each factor rounded to a
  10-bit mantissa, so e_in = 2 u_in + u_in^2); 0 otherwise.
* ``u_out |y|`` is the final rounding when the output format is narrower than the accumulator
  (fp16/bf16 outputs of fp32 accumulation).
* ``gamma_K(f64) S`` covers the float64 reference itself (zero in the exact regime).
* ``(K+1) tiny_acc + tiny_out`` covers underflow (tiny = smallest normal number), so that gradual
  underflow and flush-to-zero are both within the bound (Higham section 2.1, eq. 2.8).

**Exact regime.**  When x, w, b are integers with |values| <= 2**p_in and S <= 2**p_acc, every
product and every partial sum, in any order, is an integer the accumulator represents exactly, so
the only allowed error is the final rounding to the output format (zero when |y| <= 2**p_out).
Direct algorithms are then compared bit for bit.

**Fast algorithms (FFT, Winograd) -- normwise.**  For y = IFFT(FFT(x) . FFT(w)) on a grid of n
points, Higham Thm 24.2 gives ||X_hat - X||_2 <= eta log2(n) ||X||_2 with eta ~ 7u per transform;
pushing that through the product and the inverse transform bounds every element of one output plane
by ``(3*7 log2(n) + C/G + 2) u sum_c ||x_c||_2 ||w_c||_1``.  The bound is per output plane, not per
element: small outputs next to large ones carry absolute, not relative, error.

No flat rtol/atol exists anywhere: every comparison reports observed/allowed per element.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: significand bits (including the implicit bit) of each format
SIGNIFICAND = {"f64": 53, "f32": 24, "tf32": 11, "f16": 11, "bf16": 8}
#: smallest positive normal number of each format (underflow: see :func:`direct_bound`)
TINY = {"f64": 2.0 ** -1022, "f32": 2.0 ** -126, "tf32": 2.0 ** -126, "f16": 2.0 ** -14, "bf16": 2.0 ** -126}
#: lambda of the probabilistic bound (see module docstring)
LAMBDA = 4.0


def unit_roundoff(fmt: str) -> float:
    """u = 2**-p for round to nearest with a p-bit significand."""
    return 2.0 ** -SIGNIFICAND[fmt]


def gamma(k: int, u: float) -> float:
    """gamma_k = k u / (1 - k u) (infinite when k u >= 1)."""
    ku = k * u
    return math.inf if ku >= 1 else ku / (1 - ku)


def gamma_tilde(k: int, u: float, lam: float = LAMBDA) -> float:
    """Higham & Mary's probabilistic gamma: exp(lam sqrt(k) u + k u^2/(1-u)) - 1."""
    return math.expm1(lam * math.sqrt(k) * u + k * u * u / (1 - u))


def c_k(k: int, u: float, lam: float = LAMBDA) -> float:
    """Coefficient of S in the accumulation bound: min(gamma_K, gtilde_K(lam))."""
    return min(gamma(k, u), gamma_tilde(k, u, lam))


@dataclass(frozen=True)
class Accumulation:
    """How an implementation computes: input rounding, accumulator and output formats.

    ``kind`` is "direct" (elementwise bound) or "fast" (normwise FFT/Winograd bound).
    """

    name: str
    inputs: str      # format the factors are rounded to before multiplying
    acc: str         # accumulator format
    out: str         # output format
    kind: str = "direct"


ACCUMULATIONS = {
    "f64": Accumulation("f64", "f64", "f64", "f64"),
    "f32": Accumulation("f32", "f32", "f32", "f32"),
    "tf32": Accumulation("tf32", "tf32", "f32", "f32"),
    "f16": Accumulation("f16", "f16", "f32", "f16"),      # fp16 storage, fp32 accumulation
    "bf16": Accumulation("bf16", "bf16", "f32", "bf16"),
    "f16acc": Accumulation("f16acc", "f16", "f16", "f16"),  # fp16 accumulation (the bad kind)
}


def accumulation_for(dtype: str, mode: str | None = None, kind: str = "direct") -> Accumulation:
    """The accumulation model of an implementation working on ``dtype`` data.

    mode "tf32" applies to float32 data only; integer dtypes are treated as float64 (exact).
    """
    if mode == "tf32" and dtype == "f32":
        acc = ACCUMULATIONS["tf32"]
    else:
        acc = ACCUMULATIONS.get(dtype, ACCUMULATIONS["f64"])
    return Accumulation(acc.name + ("-fast" if kind == "fast" else ""), acc.inputs, acc.acc, acc.out, kind)


def _is_int_valued(a) -> bool:
    a = np.asarray(a)
    if a.dtype.kind in "iub":
        return True
    if a.dtype.kind == "c":
        return False
    return bool(np.all(np.isfinite(a)) and np.all(a == np.round(a)))


def exact_regime(arrays, s_max: float, acc: Accumulation) -> bool:
    """True if every product and partial sum is an exactly representable integer (see docstring)."""
    if acc.kind != "direct":
        return False
    p_in, p_acc = SIGNIFICAND[acc.inputs], SIGNIFICAND[acc.acc]
    for a in arrays:
        if a is None:
            continue
        if not _is_int_valued(a) or (np.asarray(a).size and np.max(np.abs(a)) > 2.0 ** p_in):
            return False
    return s_max <= 2.0 ** p_acc


def direct_bound(k: int, s, y_ref, acc: Accumulation, exact: bool):
    """Per-element allowed |y_hat - y| for a direct sum with absolute sum ``s`` (array)."""
    s = np.asarray(s, dtype=np.float64)
    y_abs = np.abs(np.asarray(y_ref, dtype=np.float64))
    u_out, u_acc, u_in = unit_roundoff(acc.out), unit_roundoff(acc.acc), unit_roundoff(acc.inputs)
    out_round = u_out * y_abs if SIGNIFICAND[acc.out] < SIGNIFICAND[acc.acc] else 0.0
    if exact:
        if SIGNIFICAND[acc.out] < SIGNIFICAND[acc.acc]:
            return np.where(y_abs <= 2.0 ** SIGNIFICAND[acc.out], 0.0, u_out * y_abs)
        return np.zeros_like(s)
    e_in = (2 * u_in + u_in * u_in) if SIGNIFICAND[acc.inputs] < SIGNIFICAND[acc.acc] else 0.0
    ref = gamma(k, unit_roundoff("f64"))
    # underflow: each of the K products may lose up to the smallest normal number (covers gradual
    # underflow and flush-to-zero alike), in the accumulator and in the output format
    tiny = (k + 1) * TINY[acc.acc] + TINY[acc.out]
    return (c_k(k, u_acc) + e_in + ref) * s + out_round * (1 + c_k(k, u_acc)) + tiny


def fft_bound(x, w, problem, acc: Accumulation):
    """Normwise allowed error, broadcast to the output shape (N, O, Ho, Wo); see module docstring."""
    p = problem
    x = np.abs(np.asarray(x, dtype=np.float64))
    w = np.abs(np.asarray(w, dtype=np.float64))
    n_fft = (p.h + 2 * p.ph + p.ekh - 1) * (p.w + 2 * p.pw + p.ekw - 1)
    u = unit_roundoff(acc.acc)
    cg, og = p.c // p.g, p.o // p.g
    xn = np.sqrt((x ** 2).sum(axis=(2, 3)))           # (N, C)
    wn = w.sum(axis=(2, 3))                            # (O, C/G)  ||w_oc||_1
    per = np.zeros((p.n, p.o))
    for g in range(p.g):
        per[:, g * og:(g + 1) * og] = xn[:, g * cg:(g + 1) * cg] @ wn[g * og:(g + 1) * og].T
    factor = (21 * math.log2(max(n_fft, 2)) + cg + 2) * u
    ho, wo = p.out_hw()
    return np.broadcast_to((factor * per)[:, :, None, None], (p.n, p.o, ho, wo))


@dataclass
class Comparison:
    """Result of comparing an observed array with the expected one under per-element bounds."""

    ratio: float                 # max over elements of |obs - exp| / allowed (0/0 -> 0, x/0 -> inf)
    index: tuple | None          # where the worst ratio occurs
    observed: float | None
    expected: float | None
    allowed: float | None
    n_bad: int                   # elements whose ratio exceeds 1
    size: int

    @property
    def ok(self) -> bool:
        return self.ratio <= 1.0

    def describe(self) -> str:
        if self.index is None:
            return "no elements compared"
        return (f"worst element {list(self.index)}: observed {self.observed!r}, expected {self.expected!r}, "
                f"|error| {abs(_f(self.observed) - _f(self.expected)):.6g} vs allowed {self.allowed:.6g} "
                f"(ratio {self.ratio:.4g}); {self.n_bad} of {self.size} elements out of bounds")


def _f(v):
    try:
        return complex(v) if isinstance(v, complex) else float(v)
    except (TypeError, ValueError):
        return math.nan


def compare(observed, expected, allowed) -> Comparison:
    """Elementwise observed-error / allowed-error; NaN/Inf where the expected value is finite is inf."""
    obs = np.asarray(observed)
    exp = np.asarray(expected)
    alw = np.broadcast_to(np.asarray(allowed, dtype=np.float64), exp.shape)
    if obs.shape != exp.shape:
        raise ValueError(f"shape {obs.shape} != expected {exp.shape}")
    if exp.size == 0:
        return Comparison(0.0, None, None, None, None, 0, 0)
    if exp.dtype == object or obs.dtype == object:
        diff = np.abs(np.asarray(obs.astype(object) - exp.astype(object), dtype=np.float64))
    elif obs.dtype.kind in "iu" and exp.dtype.kind in "iu":
        diff = np.abs(obs.astype(object) - exp.astype(object)).astype(np.float64)
    else:
        o = obs.astype(np.complex128 if "c" in (obs.dtype.kind, exp.dtype.kind) else np.float64)
        e = exp.astype(o.dtype)
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(o - e)
            same_inf = np.isinf(o) & np.isinf(e) & (o == e)
            diff = np.where(same_inf, 0.0, diff)
            diff = np.where(np.isnan(o) & np.isnan(e), 0.0, diff)
            diff = np.where(np.isnan(diff), np.inf, diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(diff == 0, 0.0, np.where(alw > 0, diff / np.where(alw > 0, alw, 1), np.inf))
    flat = int(np.argmax(ratio))
    idx = np.unravel_index(flat, ratio.shape)
    r = float(ratio[idx])
    return Comparison(r, tuple(int(i) for i in idx), _scalar(obs[idx]), _scalar(exp[idx]), float(alw[idx]),
                      int(np.count_nonzero(ratio > 1.0)), int(ratio.size))


def _scalar(v):
    v = v.item() if hasattr(v, "item") else v
    return v
