"""The false-alarm hunt: data built to maximise rounding error, and correct float32 implementations
that sum in odd orders.  Every one of them must stay within the error model (ratio <= 1); a ratio
above 1 on any of them would mean the bound can fail correct code.

Data families (:data:`FAMILIES`; float32, each a list of cases):

* ``one-large``     -- one large value among tiny ones (x = 16 at one position, 2**-20 elsewhere, w = 1);
* ``half-ulp-tail`` -- one large term first, then K-1 terms just under half an ulp of it: a sequential
  sum loses every one of them, reaching (K-1) u S, the worst case of the gamma_K bound;
* ``constant-0.1``  -- the non-representable constant float32(0.1) everywhere (errors of one sign);
* ``cancellation``  -- alternating signs around a large constant, so the result is tiny next to S;
* ``mixed-exponents`` -- magnitudes 2**U{-30..30} with random signs;
* K up to about 1000 in every family (C = 16..20, 7x7 and 8x8 kernels).

Summation orders (:func:`order_backends`; each a correct implementation: IEEE float32 round to
nearest, every product rounded once): sequential, reverse, pairwise, blocked by 8 and by 16,
largest-magnitude-first, and FMA (each product added unrounded: ``acc = fl32(x*w + acc)``, emulated
exactly in float64 with round-to-odd, so there is no double rounding).

:func:`winograd_backend` is Winograd F(2x2, 3x3) in float32, declared "fast".
"""

from __future__ import annotations

import math

import numpy as np

from convspec.backends.base import Backend, Capabilities
from convspec.model.case import Case
from convspec.model.problem import Problem
from convspec.truth import reference as ref
from convspec.truth.tolerance import round_to

# -- data families ----------------------------------------------------------------------------------


def _case(desc: str, x, w, b=None) -> Case:
    p = Problem.parse(desc).with_(dtype="f32", regime="flt")
    arrays = {"x": np.asarray(x, dtype=np.float32).reshape(p.x_shape),
              "w": np.asarray(w, dtype=np.float32).reshape(p.w_shape)}
    if p.bias:
        arrays["b"] = (np.full(p.b_shape, np.float32(0.1)) if b is None else np.asarray(b)).astype(np.float32).reshape(p.b_shape)
    return Case(p, arrays)


def one_large(desc: str, big: float = 16.0, tiny: float = 2.0 ** -20, at: int = 0) -> Case:
    p = Problem.parse(desc)
    x = np.full(p.x_shape, tiny, dtype=np.float64)
    x.flat[at % x.size] = big
    return _case(desc, x, np.ones(p.w_shape))


def half_ulp_tail(desc: str, big: float = 1.0) -> Case:
    """x[0] = big, every other x just under half an ulp of big (in float32), w = 1."""
    p = Problem.parse(desc)
    tiny = np.float32(big * 2.0 ** -24 * (1 - 2.0 ** -12))
    x = np.full(p.x_shape, tiny, dtype=np.float64)
    x[:, :, 0, 0] = big
    return _case(desc, x, np.ones(p.w_shape))


def constant(desc: str, value: float = 0.1, wvalue: float = 1.0) -> Case:
    p = Problem.parse(desc)
    return _case(desc, np.full(p.x_shape, np.float32(value)), np.full(p.w_shape, np.float32(wvalue)))


def cancellation(desc: str, seed: int = 0) -> Case:
    p = Problem.parse(desc)
    rng = np.random.default_rng(seed)
    base = 1000.0 + rng.random(p.x_shape) * 2.0 ** -8
    signs = np.where(np.indices(p.x_shape).sum(axis=0) % 2 == 0, 1.0, -1.0)
    w = np.where(np.indices(p.w_shape)[1:].sum(axis=0) % 2 == 0, 1.0, -1.0) * (1 + rng.random(p.w_shape) * 2.0 ** -10)
    return _case(desc, base * signs, w)


def mixed_exponents(desc: str, seed: int = 0, span: int = 30) -> Case:
    p = Problem.parse(desc)
    rng = np.random.default_rng(seed)

    def arr(shape):
        return rng.choice([-1.0, 1.0], size=shape) * rng.random(shape) * 2.0 ** rng.integers(-span, span + 1, size=shape)
    return _case(desc, arr(p.x_shape), arr(p.w_shape), arr(p.b_shape) if p.bias else None)


#: the three inputs of the soundness issue (ratios 1.20, 1.37, 1.20 under the old probabilistic bound)
ISSUE_CASES = (
    ("issue: one large, K=25", lambda: one_large("n1c1h5w5_o1k5x5")),
    ("issue: one large, K=32", lambda: one_large("n1c2h4w4_o1k4x4")),
    ("issue: constant 0.1, K=784", lambda: constant("n1c16h7w7_o1k7x7")),
)


def families(full: bool = False) -> list[tuple[str, Case]]:
    """(label, case) of every family; ``full`` adds the larger and more numerous variants."""
    out = [(label, make()) for label, make in ISSUE_CASES]
    shapes = ["n1c1h5w5_o1k5x5", "n1c4h6w6_o2k3x3", "n1c16h7w7_o1k7x7", "n1c20h7w7_o1k7x7_bias"]
    if full:
        shapes += ["n1c16h8w8_o1k8x8", "n2c9h9w9_o3k3x3_p1x1", "n1c64h4w4_o1k4x4"]
    for d in shapes:
        out.append((f"one-large {d}", one_large(d)))
        out.append((f"one-large-last {d}", one_large(d, at=-1)))
        out.append((f"half-ulp-tail {d}", half_ulp_tail(d)))
        out.append((f"constant-0.1 {d}", constant(d)))
        out.append((f"constant-0.1x0.1 {d}", constant(d, 0.1, 0.1)))
        for s in range(3 if full else 1):
            out.append((f"cancellation {d} seed={s}", cancellation(d, s)))
            out.append((f"mixed-exponents {d} seed={s}", mixed_exponents(d, s)))
    return out


# -- summation orders --------------------------------------------------------------------------------

def _terms(x, w, b, stride, padding, dilation, groups):
    """float32 products t[n, o, p, k] = fl32(x_col[n, k, p] * w_row[o, k]) and the exact float64
    factors (for FMA), grouped: K = C/G*kH*kW terms per output, plus the bias as a last term."""
    p = ref.problem_of(x, w, b, stride, padding, dilation, groups)
    cols = ref.im2col_columns(x.astype(np.float64), p)          # (N, C*kH*kW, P)
    ho, wo = p.out_spatial()
    cg, og, k = p.c // p.g, p.o // p.g, math.prod(p.kernel)
    xs = np.empty((p.n, p.o, ho * wo, cg * k))
    ws = np.empty((p.o, cg * k))
    for g in range(p.g):
        xs[:, g * og:(g + 1) * og] = cols[:, None, g * cg * k:(g + 1) * cg * k, :].transpose(0, 1, 3, 2)
        ws[g * og:(g + 1) * og] = w[g * og:(g + 1) * og].reshape(og, cg * k)
    wsb = np.broadcast_to(ws[None, :, None, :], xs.shape)
    return p, xs, wsb


def _finish(p, acc, b):
    return acc.reshape(p.n, p.o, *p.out_spatial())


def _sequential(t, axis_order=None):
    acc = np.zeros(t.shape[:-1], dtype=np.float32)
    for i in (range(t.shape[-1]) if axis_order is None else axis_order):
        acc = acc + t[..., i]
    return acc


def _pairwise(t):
    while t.shape[-1] > 1:
        if t.shape[-1] % 2:
            t = np.concatenate([t, np.zeros(t.shape[:-1] + (1,), dtype=np.float32)], axis=-1)
        t = t[..., 0::2] + t[..., 1::2]
    return t[..., 0] if t.shape[-1] else np.zeros(t.shape[:-1], dtype=np.float32)


def _blocked(block):
    def f(t):
        sums = [_sequential(t[..., i:i + block]) for i in range(0, t.shape[-1], block)]
        return _sequential(np.stack(sums, axis=-1)) if sums else np.zeros(t.shape[:-1], dtype=np.float32)
    return f


def _largest_first(t):
    order = np.argsort(-np.abs(t), axis=-1, kind="stable")
    return _sequential(np.take_along_axis(t, order, axis=-1))


def _round_to_odd_sum(a, b):
    """a + b (float64) rounded to odd at 53 bits: exact TwoSum error, then the last bit forced odd
    towards the true value, so that a later rounding to float32 is the correctly rounded one."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    lsb_even = (s.view(np.int64) & 1) == 0
    fix = (e != 0) & lsb_even
    return np.where(fix, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)


def _fma_sum(xs, ws, bias):
    acc = np.zeros(xs.shape[:-1], dtype=np.float32) if bias is None else np.broadcast_to(
        bias.astype(np.float32), xs.shape[:-1]).copy()
    for i in range(xs.shape[-1]):
        prod = xs[..., i] * ws[..., i]                           # exact in float64 (24 + 24 bits)
        acc = _round_to_odd_sum(prod, acc.astype(np.float64)).astype(np.float32)
    return acc


def make_order_conv2d(summer):
    """A float32 conv2d that forms every product rounded once and sums with ``summer`` (or FMA)."""
    def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        p, xs, ws = _terms(x, w, b, stride, padding, dilation, groups)
        bias = None if b is None else b.astype(np.float32)[None, :, None]
        if summer == "fma":
            acc = _fma_sum(xs, ws, bias)
        else:
            t = (xs * ws).astype(np.float32)
            if bias is not None:
                t = np.concatenate([t, np.broadcast_to(bias[..., None], t.shape[:-1] + (1,))], axis=-1)
            acc = summer(t)
        return _finish(p, acc, b).astype(np.float32)
    return conv2d


ORDERS = {
    "sequential": _sequential,
    "reverse": lambda t: _sequential(t, range(t.shape[-1] - 1, -1, -1)),
    "pairwise": _pairwise,
    "blocked8": _blocked(8),
    "blocked16": _blocked(16),
    "largest-first": _largest_first,
    "fma": "fma",
}


def order_backends() -> list[Backend]:
    """One correct float32 implementation per summation order (accuracy "direct")."""
    return [Backend(f"order-{name}", {"conv2d": make_order_conv2d(fn)}, Capabilities(dtypes=("f32",)),
                    origin="adversarial") for name, fn in ORDERS.items()]


# -- Winograd F(2x2, 3x3) ------------------------------------------------------------------------------

_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float32)
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float32)
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float32)


def winograd_conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """Winograd F(2x2, 3x3) in float32 for 3x3 kernels with stride 1 and dilation 1 (the cross-
    correlation of CNN layers: Y = A^T [sum_c (G g_c G^T) . (B^T d_c B)] A per 2x2 output tile);
    every other shape falls back to a float32 im2col product."""
    p = ref.problem_of(x, w, b, stride, padding, dilation, groups)
    if (p.kernel, p.stride, p.dilation) != ((3, 3), (1, 1), (1, 1)):
        return make_order_conv2d(_pairwise)(x, w, b, stride=stride, padding=padding, dilation=dilation,
                                            groups=groups)
    (ho, wo), (hx, wx), ((ph, _), (pw, _)) = p.out_spatial(), p.spatial, p.pads
    th, tw = (ho + 1) // 2, (wo + 1) // 2
    xp = np.zeros((p.n, p.c, 2 * th + 2, 2 * tw + 2), dtype=np.float32)
    xp[:, :, ph:ph + hx, pw:pw + wx] = x
    cg, og = p.c // p.g, p.o // p.g
    y = np.zeros((p.n, p.o, 2 * th, 2 * tw), dtype=np.float32)
    u = np.einsum("ij,ocjk,lk->ocil", _G, w.astype(np.float32), _G).astype(np.float32)   # (O, C/G, 4, 4)
    for i in range(th):
        for j in range(tw):
            d = xp[:, :, 2 * i:2 * i + 4, 2 * j:2 * j + 4]
            v = np.einsum("ij,ncjk,lk->ncil", _BT, d, _BT).astype(np.float32)          # B^T d B
            for g in range(p.g):
                m = np.einsum("ocil,ncil->noil", u[g * og:(g + 1) * og], v[:, g * cg:(g + 1) * cg]).astype(np.float32)
                y[:, g * og:(g + 1) * og, 2 * i:2 * i + 2, 2 * j:2 * j + 2] = np.einsum(
                    "ai,noil,bl->noab", _AT, m, _AT).astype(np.float32)
    y = y[:, :, :ho, :wo]
    if b is not None:
        y = y + b.astype(np.float32)[None, :, None, None]
    return np.ascontiguousarray(y, dtype=np.float32)


def winograd_backend() -> Backend:
    return Backend("winograd-f2x2-3x3", {"conv2d": winograd_conv2d},
                   Capabilities(dtypes=("f32",), accuracy="fast"), origin="adversarial")


# -- planted systematic errors (for the sensitivity table) -------------------------------------------

def sequential_in(acc_dtype, out_dtype):
    """A conv2d that rounds every product to ``acc_dtype`` and sums sequentially in it (an fp16
    accumulator, or float32 accumulation of float64 data), then casts to ``out_dtype``."""
    def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        p, xs, ws = _terms(x, w, b, stride, padding, dilation, groups)
        t = (xs * ws).astype(acc_dtype)
        if b is not None:
            t = np.concatenate([t, np.broadcast_to(b.astype(acc_dtype)[None, :, None, None], t.shape[:-1] + (1,))],
                               axis=-1)
        acc = np.zeros(t.shape[:-1], dtype=acc_dtype)
        for i in range(t.shape[-1]):
            acc = (acc + t[..., i]).astype(acc_dtype)
        return _finish(p, acc, b).astype(out_dtype)
    return conv2d


def relative_error(y_exact, eps: float, fmt: str):
    """y (1 + eps) rounded once to ``fmt``: a uniform relative error of eps."""
    return round_to(np.asarray(y_exact, dtype=np.float64) * (1 + eps), fmt)
