"""Hypothesis strategies: problems first, then data for them.

Problems span the whole parameter space -- spatial sizes up to 40x40, 16 channels per group,
batch 5, kernels up to 7, stride and dilation up to 4, grouped and depthwise, padding beyond the
kernel, kernels larger than the input -- within the limits a backend declares
(:class:`specs.backends.Capabilities`).  A size class is drawn first (tiny/small/medium/large,
shrinking towards tiny) so that most examples are cheap while large ones still appear.

Data: cases with at most :data:`VALUE_LEVEL_NUMEL` numbers are drawn value by value, so hypothesis
shrinks them to readable small arrays; larger cases draw a seed and :func:`specs.case.fill`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .case import Case, cast, dyadic_limits, dyadic_plan, exponent_range, int_range, kterms_of
from .problem import Problem, SignalProblem

VALUE_LEVEL_NUMEL = 160

#: size classes: (max spatial, max channels per group, max batch, max kernel)
SIZE_CLASSES = ((6, 2, 2, 3), (12, 4, 3, 5), (24, 8, 4, 7), (40, 16, 5, 7))
SIZE_WEIGHTS = (0, 0, 0, 0, 1, 1, 1, 2, 2, 3)   # index -> class: 40% tiny, 30% small, 20% medium, 10% large


def _element(dtype: str, regime: str):
    if regime == "int":
        r = int_range(dtype)
        return st.integers(-r, r).map(float)
    lo, hi = exponent_range(dtype)
    # magnitudes are 0 or >= 2**-12 (no underflow in products), mantissas with 12 bits and more
    mant = st.integers(-2 ** 12, 2 ** 12).map(lambda m: m / 2 ** 12)
    base = st.builds(lambda m, e: m * 4.0 * 2.0 ** e, mant, st.just(0))
    scaled = st.builds(lambda m, e: m * 2.0 ** e, mant, st.integers(lo, hi))
    wide = st.floats(-4, 4, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=32).map(
        lambda v: v if abs(v) >= 2 ** -12 else 0.0)
    return st.one_of(base, scaled, wide)


def _array(shape, dtype: str, regime: str, positive: bool = False):
    el = _element(dtype, regime)
    if positive:
        el = el.map(abs)
    return hnp.arrays(np.float64, shape, elements=el).map(lambda a: cast(a, dtype))


def _dyadic_arrays(draw, problem, names_shapes):
    """Value-level dyadic data (see :mod:`specs.case`): widths and exponents shrink towards small
    integers, mantissas value by value."""
    total, cap = dyadic_limits(problem.dtype, kterms_of(problem))
    bx = draw(st.integers(1, min(cap, total - 1)))
    widths = (bx, draw(st.integers(1, min(cap, total - bx))))
    plan = dyadic_plan(problem.dtype, kterms_of(problem), lambda lo, hi: draw(st.integers(lo, hi)), widths)
    out = {}
    for name, shape in names_shapes:
        bits, e = {"x": (plan.bx, plan.ex), "a": (plan.bx, plan.ex), "w": (plan.bw, plan.ew),
                   "k": (plan.bw, plan.ew)}.get(name, (plan.pb, plan.ex + plan.ew + plan.shift))
        el = st.integers(-2 ** bits, 2 ** bits).map(lambda m, e=e: float(np.ldexp(float(m), e)))
        out[name] = cast(draw(hnp.arrays(np.float64, shape, elements=el)), problem.dtype)
    return out


@st.composite
def data_for(draw, problem, names_shapes, *, positive_ok=True, value_level=True):
    """Arrays for ``problem``: value by value when small (unless ``value_level`` is False), else from a
    drawn seed."""
    numel = sum(int(np.prod(s)) for _, s in names_shapes)
    if value_level and numel <= VALUE_LEVEL_NUMEL and problem.regime == "dya":
        return Case(problem, _dyadic_arrays(draw, problem, names_shapes))
    if value_level and numel <= VALUE_LEVEL_NUMEL:
        pos = positive_ok and problem.regime == "flt" and draw(st.integers(0, 3)) == 3
        return Case(problem, {n: draw(_array(s, problem.dtype, problem.regime, pos)) for n, s in names_shapes})
    return Case.seeded(problem, draw(st.integers(0, 2 ** 32 - 1)))


def _dtypes(caps, dtypes):
    allowed = [d for d in caps.dtypes if dtypes is None or d in dtypes]
    return allowed


@st.composite
def conv_problems(draw, caps, *, dtypes=None, regimes=("int", "dya", "flt"), kernel=None, batch=None, bias=None,
                  max_class=3, max_size=None, depthwise=None, **fixed):
    """A valid :class:`Problem` within ``caps``.

    ``fixed`` pins any Problem field (e.g. ``kh=1, sh=1``); a ``kernel`` callable maps the drawn
    (h, w) to a pinned kernel size (whole-input kernels); ``depthwise=True`` forces groups == channels.
    Parameters are drawn kernel -> dilation -> stride -> padding -> spatial size, so that every draw is
    valid (the input is at least the dilated kernel minus twice the padding).
    """
    def pick(name, strategy):
        return fixed[name] if name in fixed else draw(strategy)

    cls = min(SIZE_WEIGHTS[draw(st.integers(0, len(SIZE_WEIGHTS) - 1))], max_class)
    smax, cmax, nmax, kmax = SIZE_CLASSES[cls]
    smax = min(caps.bound("size", smax), max_size or 10 ** 9)
    cmax, nmax, kmax = caps.bound("channels", cmax), caps.bound("batch", nmax), caps.bound("kernel", kmax)
    allowed_dtypes = _dtypes(caps, dtypes)
    if not allowed_dtypes:
        raise ValueError("no dtype in common between the claim and the backend")
    dtype = pick("dtype", st.sampled_from(allowed_dtypes))
    usable = [r for r in regimes if r != "dya" or dtype in ("f16", "bf16", "f32", "f64")]
    regime = pick("regime", st.sampled_from(usable or ["int"]))
    if kernel is not None:
        smax = min(smax, kmax)
        h, w = draw(st.integers(1, smax)), draw(st.integers(1, smax))
        kh, kw = kernel(h, w)
        dh = dw = sh = sw = 1
        ph = pw = 0
    else:
        kh, kw = pick("kh", st.integers(1, kmax)), pick("kw", st.integers(1, kmax))
        dmax = caps.bound("dilation", 4)
        dh, dw = pick("dh", st.integers(1, dmax)), pick("dw", st.integers(1, dmax))
        smax_s = caps.bound("stride", 4)
        sh, sw = pick("sh", st.integers(1, smax_s)), pick("sw", st.integers(1, smax_s))
        pmax = 0 if not caps.padding else None
        ph = pick("ph", st.integers(0, kh + 1 if pmax is None else 0))
        pw = pick("pw", st.integers(0, kw + 1 if pmax is None else 0))
        ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
        lo_h, lo_w = max(1, ekh - 2 * ph), max(1, ekw - 2 * pw)
        h = pick("h", st.integers(lo_h, max(lo_h, smax)))
        w = pick("w", st.integers(lo_w, max(lo_w, smax)))
    if fixed.get("g") == 1 or not caps.groups:
        g, cg, og = 1, pick("c", st.integers(1, cmax)), pick("o", st.integers(1, cmax))
    else:
        mode = draw(st.sampled_from(["plain", "grouped", "depthwise"])) if caps.groups else "plain"
        if depthwise:
            mode = "depthwise"
        if mode == "plain":
            g, cg = 1, draw(st.integers(1, cmax))
        elif mode == "grouped":
            g, cg = draw(st.integers(2, 4)), draw(st.integers(1, cmax))
        else:
            g, cg = draw(st.integers(2, max(2, cmax))), 1
        og = draw(st.integers(1, 2)) if mode == "depthwise" else draw(st.integers(1, cmax))
    n = batch if batch is not None else pick("n", st.integers(1, nmax))
    b = (draw(st.booleans()) if bias is None else bias) and caps.bias
    return Problem(n=n, c=cg * g, h=h, w=w, o=og * g, kh=kh, kw=kw, sh=sh, sw=sw, ph=ph, pw=pw, dh=dh, dw=dw,
                   g=g, bias=b, dtype=dtype, regime=regime)


@st.composite
def conv_cases(draw, caps, value_level=True, **opts):
    """(Problem, data) for the conv2d contract; ``value_level=False`` always fills data from a seed
    (for claims whose counterexamples are about rounding, where value shrinking only wastes time)."""
    p = draw(conv_problems(caps, **opts))
    shapes = [("x", p.x_shape), ("w", p.w_shape)] + ([("b", p.b_shape)] if p.bias else [])
    return draw(data_for(p, shapes, value_level=value_level))


def kernel_size(parity: str | None, max_k: int):
    """A kernel extent in 1..max_k, odd or even when ``parity`` says so (shrinks towards 1 or 2)."""
    if parity == "odd":
        return st.integers(0, (max_k - 1) // 2).map(lambda i: 2 * i + 1)
    if parity == "even":
        return st.integers(1, max_k // 2).map(lambda i: 2 * i)
    return st.integers(1, max_k)


@st.composite
def signal_problems(draw, caps, *, modes=("full", "same", "valid"), ndim=2, kernel_parity=None,
                    dtypes=None, regimes=("int", "dya", "flt"), max_size=16, max_kernel=7):
    """A :class:`SignalProblem`; ``kernel_parity`` 'odd'/'even' pins the parity of every kernel dim."""
    mode = draw(st.sampled_from(modes))
    dtype = draw(st.sampled_from(_dtypes(caps, dtypes) or ["f64"]))
    usable = [r for r in regimes if r != "dya" or dtype in ("f16", "bf16", "f32", "f64")]
    regime = draw(st.sampled_from(usable or ["int"])) if dtype[0] in "fbc" else "int"

    k = tuple(draw(kernel_size(kernel_parity, max_kernel)) for _ in range(ndim))
    if mode == "valid" and draw(st.integers(0, 3)) == 0:   # the kernel is the larger array
        a = tuple(draw(st.integers(1, kk)) for kk in k)
    elif mode == "valid":
        a = tuple(draw(st.integers(kk, max(kk, max_size))) for kk in k)
    else:
        a = tuple(draw(st.integers(1, max_size)) for _ in range(ndim))
    return SignalProblem(a=a, k=k, mode=mode, dtype=dtype, regime=regime)


@st.composite
def signal_cases(draw, caps, *, kernel=None, **opts):
    """(SignalProblem, data); ``kernel`` is an optional strategy factory shape -> kernel array."""
    p = draw(signal_problems(caps, **opts))
    if kernel is not None:
        a = draw(_array(p.a, p.dtype, p.regime))
        return Case(p, {"a": a, "k": cast(draw(kernel(p.k)), p.dtype)})
    return draw(data_for(p, [("a", p.a), ("k", p.k)]))


def conv(**opts):
    """Factory: backend -> conv case strategy (what claims pass as ``cases``)."""
    return lambda be: conv_cases(be.caps, **opts)


def signal(**opts):
    return lambda be: signal_cases(be.caps, **opts)


def fixed(*cases):
    """Factory for claims about concrete documented inputs (no search space).  Integer-valued data is
    cast to the first dtype the backend declares when it does not declare the case's own."""
    def adapt(case, caps):
        if case.problem.dtype in caps.dtypes or not caps.dtypes:
            return case
        dt = caps.dtypes[0]
        return Case(case.problem.with_(dtype=dt), {k: None if v is None else cast(v, dt)
                                                   for k, v in case.arrays.items()})
    return lambda be: st.sampled_from([adapt(c, be.caps) for c in cases])


# -- kernels with a given symmetry (claim 5) ---------------------------------------------------

def _small_int_matrix(shape):
    return hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(float))


@st.composite
def point_symmetric_kernel(draw, shape):
    """k == rot180(k): average-free construction k = m + rot180(m) (integers)."""
    m = draw(_small_int_matrix(shape))
    return m + m[::-1, ::-1]


@st.composite
def transpose_only_symmetric_kernel(draw, shape):
    """k == k.T but k != rot180(k) (square kernels)."""
    n = shape[0]
    m = draw(_small_int_matrix((n, n)))
    k = m + m.T
    if np.array_equal(k, k[::-1, ::-1]):
        k = k.copy()
        k[0, 0] += 1          # breaks point symmetry, keeps k == k.T
        if np.array_equal(k, k[::-1, ::-1]):   # only when n == 1 (the claim draws n >= 2)
            k[0, 0] += 1
    return k

