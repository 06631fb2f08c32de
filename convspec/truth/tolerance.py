"""The error model: how far a correct result may lie from the exact one, per element.

Notation: u_f is the unit roundoff of format f (2**-p for a p-bit significand, round to nearest),
K the number of terms summed per output (C/G*kH*kW products, +1 with a bias) and
S = sum |x||w| + |b| the absolute sum at that output (:func:`reference.abs_sum`).

An implementation is described by an :class:`Accumulation`: the format its data are stored in
(``data``), the format the factors are rounded to before multiplying (``inputs``: TF32 rounds float32
data to 11 bits), the accumulator (``acc``), the output (``out``), a factor on the accumulator's
unit roundoff (2 for non-IEEE accumulators such as tensor cores: truncation, narrow alignment) and
its algorithm class (``kind``: "direct" or "fast").

**Direct class -- rigorous, for every summation order, blocking, split-K, with or without FMA**
(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., Lemma 3.1 and eq. 3.5: every
computed sum of K terms, in any order, satisfies |s_hat - s| <= gamma_K(u) sum |terms|)::

    E_s   = e_in * S  +  gamma_K(f * u_acc) * (1 + u_in)^2 * S          (accumulated value)
    |y_hat - y| <= E_s * (1 + u_out)  +  u_out * |y|  +  (1 + u_out) * gamma_K(u_64) * S  +  underflow

* ``gamma_K(u) = K u / (1 - K u)``.
* ``e_in = 2 u_in + u_in^2`` when the factors are rounded to a narrower format than the data
  (TF32: u_in = 2**-10, which covers round-to-nearest *and* truncation); 0 when the data are already
  stored in that format (float16/bfloat16 data: the products of two 11/8-bit significands are exact
  in float32, so no input-rounding term exists).
* ``u_out`` is the final rounding to an output format narrower than the accumulator (float16 and
  bfloat16 outputs of float32 accumulation): |fl(s_hat) - s_hat| <= u_out |s_hat| <= u_out (|y| + E_s).
* ``gamma_K(u_64) S`` covers the float64 reference itself.
* underflow: each product, each addition and each input rounding may lose up to the smallest normal
  number (which covers gradual underflow and flush-to-zero alike): (3K + 1) tiny_acc + tiny_out.

On the worst adversarial data (one large term, K-1 terms just under half an ulp of it) a
sequential float32 sum reaches (K-1) u S, i.e. a ratio of (K-1)/K of this bound: thin but rigorous.

**Probabilistic bound -- opt-in only.**  ``CONVSPEC_BOUND=probabilistic`` replaces gamma_K by
min(gamma_K, gtilde_K) with Higham & Mary's gtilde_K(lam) = exp(lam sqrt(K) u + K u^2/(1-u)) - 1
(SIAM J. Sci. Comput. 41(5), 2019, Thm 2.4).  It assumes rounding errors that are mean-independent;
legal data make them add up (one large value among tiny ones, constants like 0.1), so **it can fail
correct code** and is never the default.

**Exact regime (sensitivity through exactness).**  Write every factor as m 2**e with an integer m
and let 2**unit be the largest power of two dividing every product (and the bias).  If every
element fits the input format (at most p_in significant bits), 2**unit is a normal number of the
accumulator and the output format, and S < 2**(p_acc + unit) (one spare bit for non-IEEE
accumulators), then every product and every partial sum, in any order, is an exactly representable
multiple of 2**unit.  The accumulated value is exact, the only rounding is the final one to the
output format, so every correct implementation returns exactly ``round_out(y)``: the allowed error
is 0 and results are compared bit for bit (:func:`exactness`, :func:`round_to`).  The data decide
this, not a label: small integers and dyadic fractions (:mod:`convspec.model.case`) are the regimes built to
land in it.

**Fast class (FFT, Winograd, or whatever a library picks) -- normwise.**  The bound is the sum of
three bounds, so it covers an implementation that may pick any of them per shape:

* direct: the bound above;
* FFT: for y = IFFT(FFT(x) . FFT(w)) on a grid of n points, Higham Thm 24.2 gives
  ||X_hat - X||_2 <= eta log2(n) ||X||_2 with eta ~ 7u per transform; pushing that through the
  product and the inverse transform bounds every element of one output plane by
  ``(3*7 log2(n) + C/G + 2) u sum_c ||x_c||_2 ||w_c||_1``;
* Winograd F(2x2, 3x3): per output tile gamma_{C+10}(u) |A^T| sum_c (|G||g_c||G|^T . |B^T||d_c||B|) |A|,
  bounded above by ``16 gamma_{C/G+10}(u) sum_c max|x_c| ||w_c||_1`` (the max over the whole plane
  is an upper bound of the max over one tile).  Larger Winograd tiles are covered only through the
  FFT term's constant, which is a measured, not a proven, cover.

With an input rounding (TF32) the fast bound is applied to the rounded factors: e_in S is added and
the norms grow by (1 + u_in)^2.  The bound is per output plane, not per element: small outputs next
to large ones carry absolute, not relative, error.

No flat rtol/atol exists anywhere: every comparison reports observed/allowed per element.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

#: significand bits (including the implicit bit) of each format
SIGNIFICAND = {"f64": 53, "f32": 24, "tf32": 11, "f16": 11, "bf16": 8}
#: smallest positive normal number of each format
TINY = {"f64": 2.0 ** -1022, "f32": 2.0 ** -126, "tf32": 2.0 ** -126, "f16": 2.0 ** -14, "bf16": 2.0 ** -126}
#: largest finite number of each format
HUGE = {"f64": float(np.finfo(np.float64).max), "f32": float(np.finfo(np.float32).max),
        "tf32": float(np.finfo(np.float32).max), "f16": 65504.0, "bf16": float(np.finfo(np.float32).max)}
#: lambda of the (opt-in) probabilistic bound
LAMBDA = 4.0
#: environment variable selecting the bound: "rigorous" (default) or "probabilistic" (can fail correct code)
BOUND_ENV = "CONVSPEC_BOUND"
BOUNDS = ("rigorous", "probabilistic")
#: TF32 input rounding unit: 2**-10 covers truncation as well as round-to-nearest (2**-11)
TF32_U_IN = 2.0 ** -10


def bound_mode() -> str:
    """The accumulation bound in force: ``rigorous`` (gamma_K, the default) or ``probabilistic``."""
    mode = os.environ.get(BOUND_ENV, "rigorous") or "rigorous"
    if mode not in BOUNDS:
        raise ValueError(f"{BOUND_ENV}={mode!r}: expected one of {', '.join(BOUNDS)}")
    return mode


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


def c_k(k: int, u: float, mode: str | None = None) -> float:
    """Coefficient of S in the accumulation bound: gamma_K (rigorous, the default), or
    min(gamma_K, gtilde_K) when the probabilistic bound is opted into."""
    mode = mode or bound_mode()
    return gamma(k, u) if mode == "rigorous" else min(gamma(k, u), gamma_tilde(k, u))


@dataclass(frozen=True)
class Accumulation:
    """How an implementation computes (see the module docstring)."""

    name: str
    inputs: str      # format the factors are rounded to before multiplying
    acc: str         # accumulator format
    out: str         # output format
    kind: str = "direct"
    data: str = ""   # format the data are stored in (defaults to ``inputs``)
    acc_factor: int = 1   # 2 for non-IEEE accumulators (tensor cores)

    @property
    def data_fmt(self) -> str:
        return self.data or self.inputs

    @property
    def u_in(self) -> float:
        """Input rounding unit: nonzero only when ``inputs`` is narrower than the stored data (TF32:
        2**-10, which covers truncation as well as round to nearest)."""
        if SIGNIFICAND[self.inputs] >= SIGNIFICAND[self.data_fmt]:
            return 0.0
        return TF32_U_IN if self.inputs == "tf32" else 2 * unit_roundoff(self.inputs)

    @property
    def e_in(self) -> float:
        u = self.u_in
        return 2 * u + u * u

    @property
    def u_acc(self) -> float:
        return self.acc_factor * unit_roundoff(self.acc)

    @property
    def u_out(self) -> float:
        return unit_roundoff(self.out) if SIGNIFICAND[self.out] < SIGNIFICAND[self.acc] else 0.0


ACCUMULATIONS = {
    "f64": Accumulation("f64", "f64", "f64", "f64"),
    "f32": Accumulation("f32", "f32", "f32", "f32"),
    # TF32: float32 data, factors rounded to 11 bits (u = 2**-10 covers truncation), tensor-core accumulation
    "tf32": Accumulation("tf32", "tf32", "f32", "f32", data="f32", acc_factor=2),
    "f16": Accumulation("f16", "f16", "f32", "f16"),      # fp16 storage, fp32 accumulation
    "bf16": Accumulation("bf16", "bf16", "f32", "bf16"),
    "f16acc": Accumulation("f16acc", "f16", "f16", "f16"),  # fp16 accumulation (the bad kind)
    "bf16acc": Accumulation("bf16acc", "bf16", "bf16", "bf16"),  # bf16 accumulation
}
#: what an implementation may declare as the accumulator of its half-precision data (Capabilities.accumulate)
HALF_ACCUMULATORS = {"f16": {"f32": "f16", "f16": "f16acc"}, "bf16": {"f32": "bf16", "bf16": "bf16acc"}}


def accumulation_for(dtype: str, mode: str | None = None, kind: str = "direct",
                     accumulator: str | None = None) -> Accumulation:
    """The accumulation model of an implementation working on ``dtype`` data.

    mode "tf32" applies to float32 data only; integer and complex dtypes are treated as float64.  The
    fast class uses a non-IEEE accumulator allowance (factor 2), as GPU libraries may.  ``accumulator``
    is the declared accumulator of half-precision data (:data:`HALF_ACCUMULATORS`: "f32", the default,
    or the half format itself, whose gamma_K bound covers any mix of fp32 partial sums rounded to the
    half format and half-format additions: every path from a product to the output still has at most K
    roundings of unit <= u_half).
    """
    if accumulator is not None and dtype in HALF_ACCUMULATORS:
        acc = ACCUMULATIONS[HALF_ACCUMULATORS[dtype][accumulator]]
    elif mode == "tf32" and dtype == "f32":
        acc = ACCUMULATIONS["tf32"]
    else:
        acc = ACCUMULATIONS.get(dtype, ACCUMULATIONS["f64"])
    if kind == "fast":
        return Accumulation(acc.name + "-fast", acc.inputs, acc.acc, acc.out, "fast", acc.data, 2)
    return acc


# -- the exact regime ---------------------------------------------------------------------------

def _bit_exponents(a):
    """(lowest, highest) exponent of the set bits of each nonzero element of a float64 array:
    a = m 2**lo with an odd integer m, and 2**hi <= |a| < 2**(hi+1)."""
    m, e = np.frexp(a)
    mi = (np.abs(m) * 2.0 ** 53).astype(np.int64)
    low = mi & -mi
    tz = np.frexp(low.astype(np.float64))[1] - 1
    return e - 53 + tz, e - 1


def _array_unit(a, p_in: int):
    """The exponent of the largest power of two dividing every element of ``a`` (None if all zero),
    or False if an element does not fit ``p_in`` significant bits or is not finite."""
    a = np.asarray(a)
    if a.dtype.kind in "iub":
        a = a.astype(np.float64)
        if not np.all(np.abs(a) < 2.0 ** 53):
            return False
    elif a.dtype.kind != "f":
        return False
    a = a.astype(np.float64).ravel()
    if not np.all(np.isfinite(a)):
        return False
    nz = a[a != 0]
    if nz.size == 0:
        return None
    lo, hi = _bit_exponents(nz)
    if np.any(hi - lo + 1 > p_in):
        return False
    return int(lo.min())


def _unit_inrange(unit, acc) -> bool:
    return 2.0 ** unit >= max(TINY[acc.acc], TINY[acc.out])


def exactness(arrays, s_max: float, acc: Accumulation) -> bool:
    """True if, for these data, every correct implementation of class ``acc`` computes every product
    and every partial sum exactly (see the module docstring); ``arrays`` = [factor, factor, addend...]
    (x, w, b for conv2d; a, k for the signal ops)."""
    if acc.kind != "direct":
        return False
    p_in, p_acc = SIGNIFICAND[acc.inputs], SIGNIFICAND[acc.acc] - (acc.acc_factor - 1)
    units = []
    for i, a in enumerate(arrays):
        if a is None:
            units.append(None)
            continue
        u = _array_unit(a, p_in if i < 2 else 53)     # addends (the bias) are not input-rounded
        if u is False:
            return False
        units.append(u)
    if len(units) < 2:
        return False
    if units[0] is None or units[1] is None:          # a zero factor: every product is exactly 0
        prod_unit = None
    else:
        prod_unit = units[0] + units[1]
    cands = [u for u in [prod_unit] + units[2:] if u is not None]
    if not cands:
        return True
    unit = min(cands)
    if not _unit_inrange(unit, acc):
        return False
    if not s_max < 2.0 ** (p_acc + unit) or not s_max < 2.0 ** (53 + unit):
        return False
    return s_max <= min(HUGE[acc.acc], HUGE[acc.out])


def round_to(y, fmt: str):
    """Round float64 values to ``fmt`` correctly (round to nearest even), returned as float64.

    float16 goes through numpy's correctly rounded conversion (subnormals included); bf16/tf32 round
    the significand to 8/11 bits directly from float64 (no double rounding through float32)."""
    y = np.asarray(y, dtype=np.float64)
    if fmt == "f64":
        return y
    if fmt == "f32":
        return y.astype(np.float32).astype(np.float64)
    if fmt == "f16":
        with np.errstate(over="ignore"):
            return y.astype(np.float16).astype(np.float64)
    bits = SIGNIFICAND[fmt]
    m, e = np.frexp(y)
    return np.ldexp(np.rint(m * 2.0 ** bits), e - bits)


# -- bounds ---------------------------------------------------------------------------------------

def direct_bound(k: int, s, y_ref, acc: Accumulation, exact: bool):
    """Per-element allowed |y_hat - y| for a direct sum with absolute sum ``s`` (array).

    In the exact regime the allowed error is the final rounding's own error |round_out(y) - y| (zero
    when the output format holds y): comparing against ``round_to(y, acc.out)`` with allowed 0 is the
    sharper use of the same fact (:func:`convspec.truth.oracle.conv_expect` does that).
    """
    s = np.asarray(s, dtype=np.float64)
    y_abs = np.abs(np.asarray(y_ref)).astype(np.float64)
    if exact:
        y = np.asarray(y_ref, dtype=np.float64)
        return np.abs(round_to(y, acc.out) - y) if acc.u_out else np.zeros_like(s)
    u_in, u_out = acc.u_in, acc.u_out
    e_s = (acc.e_in + c_k(k, acc.u_acc) * (1 + u_in) ** 2) * s
    ref = gamma(k, unit_roundoff("f64")) * s
    tiny = (3 * k + 1) * TINY[acc.acc] + TINY[acc.out]
    return e_s * (1 + u_out) + u_out * y_abs + (1 + u_out) * ref + tiny


def _grouped(xn, wn, p):
    """per[n, o] = sum_{c in group(o)} xn[n, c] * wn[o, c_local]."""
    cg, og = p.c // p.g, p.o // p.g
    per = np.zeros((p.n, p.o))
    for g in range(p.g):
        per[:, g * og:(g + 1) * og] = xn[:, g * cg:(g + 1) * cg] @ wn[g * og:(g + 1) * og].T
    return per


def fft_bound(x, w, problem, acc: Accumulation):
    """Normwise FFT allowed error, broadcast to the output shape (N, O, *out); see module docstring.  Every rank:
    the norms run over all spatial axes and n_fft is the product of the padded transform lengths."""
    p = problem
    x = np.abs(np.asarray(x, dtype=np.float64))
    w = np.abs(np.asarray(w, dtype=np.float64))
    axes = tuple(range(2, x.ndim))
    n_fft = math.prod(L + lo + hi + e - 1 for L, (lo, hi), e in zip(p.spatial, p.pads, p.extent))
    u = acc.u_acc
    cg = p.c // p.g
    with np.errstate(over="ignore"):
        xn = np.sqrt((x ** 2).sum(axis=axes))          # (N, C)  ||x_c||_2
    wn = w.sum(axis=axes)                              # (O, C/G)  ||w_oc||_1
    factor = (21 * math.log2(max(n_fft, 2)) + cg + 2) * u * (1 + acc.u_in) ** 2
    return np.broadcast_to((factor * _grouped(xn, wn, p))[(...,) + (None,) * p.rank], p.y_shape)


def winograd_bound(x, w, problem, acc: Accumulation):
    """Winograd F(2,3) per axis allowed error: 4^r gamma_{C/G+5r}(u) sum_c max|x_c| ||w_oc||_1 per plane, r the
    rank (the transforms are tensor products of the 1-D ones, so their growth and rounding counts multiply and
    add per axis: F(2x2,3x3) is 16 gamma_{C/G+10})."""
    p = problem
    x = np.abs(np.asarray(x, dtype=np.float64))
    w = np.abs(np.asarray(w, dtype=np.float64))
    axes = tuple(range(2, x.ndim))
    xm = x.max(axis=axes) if x.size else np.zeros((p.n, p.c))
    wn = w.sum(axis=axes)
    coef = 4 ** p.rank * gamma(p.c // p.g + 5 * p.rank, acc.u_acc) * (1 + acc.u_in) ** 2
    return np.broadcast_to((coef * _grouped(xm, wn, p))[(...,) + (None,) * p.rank], p.y_shape)


def fast_bound(x, w, problem, acc: Accumulation, s, y_ref):
    """The fast class: direct + FFT + Winograd bounds (covers whichever a library picks)."""
    d = direct_bound(problem.k_terms, s, y_ref, acc, False)
    return d + (1 + acc.u_out) * (fft_bound(x, w, problem, acc) + winograd_bound(x, w, problem, acc))


# -- comparison -----------------------------------------------------------------------------------

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
