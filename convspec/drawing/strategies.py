"""Hypothesis strategies: problems first, then data for them.

Problems span the whole parameter space -- spatial sizes up to 40x40, 16 channels per group,
batch 5, kernels up to 7, stride and dilation up to 4, grouped and depthwise, padding beyond the
kernel, kernels larger than the input -- within the limits a backend declares
(:class:`convspec.backends.base.Capabilities`).  A size class is drawn first (tiny/small/medium/large,
shrinking towards tiny) so that most examples are cheap while large ones still appear.

Data: cases with at most :data:`VALUE_LEVEL_NUMEL` numbers are drawn value by value, so hypothesis
shrinks them to readable small arrays; larger cases draw a seed and :func:`convspec.model.case.fill`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from convspec.model.case import Case, cast, dyadic_limits, dyadic_plan, exponent_range, int_range, kterms_of
from convspec.model.problem import AXES, Problem, SignalProblem, TransposeProblem

VALUE_LEVEL_NUMEL = 160

#: size classes: (max spatial, max channels per group, max batch, max kernel)
SIZE_CLASSES = ((6, 2, 2, 3), (12, 4, 3, 5), (24, 8, 4, 7), (40, 16, 5, 7))
SIZE_WEIGHTS = (0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4)   # index -> class: tiny, small, medium, large, large tier (4)


# Value-level data are drawn as ONE byte string per array (st.binary), decoded element by element:
# one draw instead of one per element makes small cases several times cheaper to generate, and the
# shrinker still works value by value -- bytes shrink towards 0, and every decoder maps smaller
# bytes to smaller magnitudes (0 -> 0.0), so counterexamples end as small readable arrays.

def _zigzag(u):
    """0, 1, 2, 3, 4, ... -> 0, 1, -1, 2, -2, ... (so that byte shrinking moves towards 0)."""
    u = np.asarray(u, dtype=np.int64)
    return np.where(u % 2 == 1, (u + 1) // 2, -(u // 2))


def _decode_int(buf, n: int, r: int):
    """Integers in [-r, r], one byte each."""
    b = np.frombuffer(buf, dtype=np.uint8)[:n].astype(np.int64)
    return _zigzag(b % (2 * r + 1)).astype(np.float64)


def _decode_flt(buf, n: int, dtype: str):
    """3 bytes per element: a 12-bit signed mantissa m/2**12 (scaled by 4) and an exponent selector
    (0: no scaling; otherwise 2**e with e in the dtype's exponent range, zigzag around 0).
    Magnitudes are 0 or >= 2**-12 * 2**lo (no underflow in products)."""
    lo, hi = exponent_range(dtype)
    b = np.frombuffer(buf, dtype=np.uint8)[:3 * n].astype(np.int64).reshape(n, 3)
    m = _zigzag(((b[:, 0] << 8) | b[:, 1]) % (2 ** 13 + 1)) / 2.0 ** 12
    e = _zigzag(b[:, 2] % (hi - lo + 2))
    e = np.clip(e, lo, hi)
    return np.where(b[:, 2] == 0, m * 4.0, m * 2.0 ** e)


def _decode_dyadic(buf, n: int, bits: int, e: int):
    """Mantissas in [-2**bits, 2**bits] (ceil((bits + 2) / 8) bytes each) times 2**e."""
    width = (bits + 9) // 8
    b = np.frombuffer(buf, dtype=np.uint8)[:width * n].astype(object).reshape(n, width) if n else np.zeros((0, width))
    u = [int.from_bytes(bytes(int(v) for v in row), "big") % (2 ** (bits + 1) + 1) for row in b]
    m = [(v + 1) // 2 if v % 2 else -(v // 2) for v in u]
    return np.array([np.ldexp(float(v), e) for v in m], dtype=np.float64)


def _bytes(n: int):
    return st.binary(min_size=n, max_size=n)


def _array(shape, dtype: str, regime: str, positive: bool = False):
    """A value-level array (decoded from one byte string) in ``dtype`` for the int or flt regime."""
    shape = tuple(shape)
    n = int(np.prod(shape))
    per = 1 if regime == "int" else 3

    def decode(buf):
        v = _decode_int(buf, n, int_range(dtype)) if regime == "int" else _decode_flt(buf, n, dtype)
        return np.abs(v) if positive else v

    if dtype == "c128":       # complex data: independent real and imaginary parts
        return st.tuples(_bytes(per * n), _bytes(per * n)).map(
            lambda ri: (decode(ri[0]) + 1j * decode(ri[1])).reshape(shape))
    return _bytes(per * n).map(lambda buf: cast(decode(buf).reshape(shape), dtype))


def _dyadic_arrays(draw, problem, names_shapes):
    """Value-level dyadic data (see :mod:`convspec.model.case`): widths and exponents shrink towards small
    integers, mantissas value by value."""
    total, cap = dyadic_limits(problem.dtype, kterms_of(problem))
    bx = draw(st.integers(1, min(cap, total - 1)))
    widths = (bx, draw(st.integers(1, min(cap, total - bx))))
    plan = dyadic_plan(problem.dtype, kterms_of(problem), lambda lo, hi: draw(st.integers(lo, hi)), widths)
    out = {}
    for name, shape in names_shapes:
        bits, e = {"x": (plan.bx, plan.ex), "a": (plan.bx, plan.ex), "w": (plan.bw, plan.ew),
                   "k": (plan.bw, plan.ew)}.get(name, (plan.pb, plan.ex + plan.ew + plan.shift))
        n = int(np.prod(shape))
        buf = draw(_bytes(((bits + 9) // 8) * n))
        out[name] = cast(_decode_dyadic(buf, n, bits, e).reshape(shape), problem.dtype)
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


def _dtype_and_regime(pick, caps, dtypes, regimes, kind="conv"):
    """A dtype the claim and the backend share (within the op kind's contract domain), then a data regime
    that exists for it (the dyadic regime is for float formats only); ``pick(name, strategy)`` honours a
    claim's pins."""
    allowed = _dtypes(caps, dtypes, kind)
    if not allowed:
        raise ValueError("no dtype in common between the claim and the backend")
    dtype = pick("dtype", st.sampled_from(allowed))
    usable = [r for r in regimes if r != "dya" or dtype in ("f16", "bf16", "f32", "f64")]
    return dtype, pick("regime", st.sampled_from(usable or ["int"]))


def _dtypes(caps, dtypes, kind="conv"):
    """The dtypes drawn for an op of ``kind``: the backend's (:meth:`Capabilities.dtypes_for`), narrowed to
    the claim's ``dtypes`` if it pins some."""
    return [d for d in caps.dtypes_for(kind) if dtypes is None or d in dtypes]


#: the large tier: limits of the one or two axes drawn large at a time (the rest stay small, so the
#: cost grows linearly): past the seams where real kernels branch (tiles of 8-128 columns/rows,
#: channel blocks of 8-64, batch chunks, specialised kernel sizes 1/3/5/7, dilated extents past 40)
LARGE = {"h": 160, "w": 160, "cin": 80, "cout": 80, "n": 20, "k": 13, "d": 8}
LARGE_AXES = tuple(LARGE)
def _extent(lo: int, hi: int, large: bool):
    """An extent in [lo, hi]; on a large axis, half the draws start from 3/4 of ``hi`` (past the
    seams).  That floor is its own boolean draw, so shrinking first drops it, then the extent."""
    if not large or hi - lo < 8:
        return st.integers(lo, max(lo, hi))
    return st.booleans().flatmap(lambda far: st.integers(max(lo, hi * 3 // 4) if far else lo, max(lo, hi)))


#: what a claim may pin (conv_problems(**fixed)): n, c, o, g, dtype, regime, and one axis of a tuple field by
#: the field's letter and the axis' (d, h or w): ``kh`` is kernel[H], ``sw`` stride[W], ``p`` the padding on both
#: sides, ``d`` dilation, and the bare letter the spatial size (``h`` is spatial[H])
PINNABLE = ("n", "c", "d", "h", "w", "o", "kd", "kh", "kw", "sd", "sh", "sw", "pd", "ph", "pw", "dd", "dh", "dw", "g",
            "dtype", "regime")


@st.composite
def conv_problems(draw, caps, *, dtypes=None, regimes=("int", "dya", "flt"), kernel=None, batch=None, bias=None,
                  max_class=4, max_size=None, depthwise=None, large_only=False, rank=2, asymmetric=False, **fixed):
    """A valid :class:`Problem` within ``caps``.

    A size class is drawn first (tiny/small/medium/large and, in about one example in eleven, the
    large tier: one or two of H, W, C_in/G, C_out/G, N, the kernel or the dilation drawn up to
    :data:`LARGE`, strides up to past the kernel).  Every extent is drawn from 1 (or its validity
    minimum) upward, so a failure past a seam shrinks to the first problem past it.

    ``fixed`` pins what :data:`PINNABLE` names (e.g. ``kh=1, sh=1`` for a kernel height and stride of 1, ``g=1``); a
    ``kernel`` callable maps the drawn (h, w) to a pinned kernel size (whole-input kernels);
    ``depthwise=True`` forces groups == channels; ``large_only=True`` always draws the large tier.
    Parameters are drawn kernel -> dilation -> stride
    -> padding -> spatial size (each for every spatial axis), so that every draw is valid.

    ``rank`` (1, 2 or 3) is the number of spatial axes; the large tier's h/w extents go to the last
    axis of a 1-D problem, and a 3-D problem keeps every extent within the small classes (its cost is
    the product of three).  ``asymmetric=None`` draws (before, after) padding pairs in half the draws when
    ``caps.padding_pairs`` is declared; False (the default, for claims that read one padding per axis)
    never.  A pin names one axis (``kh``, ``sd``, ...: see :data:`PINNABLE`).
    """
    unknown = sorted(set(fixed) - set(PINNABLE))
    if unknown:
        raise InvalidArgument(f"conv_problems: unknown pin(s) {', '.join(map(repr, unknown))}; "
                              f"pinnable: {', '.join(PINNABLE)}")

    def pick(name, strategy):
        return fixed[name] if name in fixed else draw(strategy)

    cls = 4 if large_only else min(SIZE_WEIGHTS[draw(st.integers(0, len(SIZE_WEIGHTS) - 1))], max_class)
    large = set()
    if cls == 4:
        large = set(draw(st.lists(st.sampled_from(LARGE_AXES), min_size=1, max_size=2, unique=True)))
        cls = 1
    smax, cmax, nmax, kmax = SIZE_CLASSES[cls]
    letters = AXES[rank]
    if rank == 3:                               # three extents multiply: keep each one small
        smax, kmax = min(smax, 7), min(kmax, 3)
        large -= {"h", "w", "k", "d"}
    if rank == 1 and "h" in large:
        large = (large - {"h"}) | {"w"}
    smaxes = {a: caps.bound("size", LARGE[a] if a in large else smax) for a in letters}
    if max_size:
        smaxes = {a: min(v, max_size) for a, v in smaxes.items()}
    cinmax = caps.bound("channels", LARGE["cin"] if "cin" in large else cmax)
    coutmax = caps.bound("channels", LARGE["cout"] if "cout" in large else cmax)
    nmax = caps.bound("batch", LARGE["n"] if "n" in large else nmax)
    kmax = caps.bound("kernel", LARGE["k"] if "k" in large else kmax)
    dtype, regime = _dtype_and_regime(pick, caps, dtypes, regimes)
    if kernel is not None:
        sizes = [pick(a, st.integers(1, min(smaxes[a], kmax))) for a in letters]
        ks = tuple(kernel(*sizes))
        ds, ss, pads = (1,) * rank, (1,) * rank, ((0, 0),) * rank
    else:
        ks = [pick("k" + a, _extent(1, kmax, "k" in large)) for a in letters]
        dmax = caps.bound("dilation", LARGE["d"] if "d" in large else (4 if rank < 3 else 2))
        ds = [pick("d" + a, _extent(1, dmax, "d" in large)) for a in letters]
        smax_s = caps.bound("stride", max(4, kmax + 1) if large else (4 if rank < 3 else 2))
        ss = [pick("s" + a, st.integers(1, smax_s)) for a in letters]
        asym = (getattr(caps, "padding_pairs", False) if asymmetric is None else asymmetric) and caps.padding \
            and not any(("p" + a) in fixed for a in letters) and draw(st.booleans())
        pads = []
        for a, k in zip(letters, ks):
            lo = pick("p" + a, st.integers(0, k + 1 if caps.padding else 0))
            pads.append((lo, draw(st.integers(0, k + 1)) if asym else lo))
        sizes = []
        for a, k, d, (lo, hi) in zip(letters, ks, ds, pads):
            sizes.append(pick(a, _extent(max(1, d * (k - 1) + 1 - lo - hi), smaxes[a], a in large)))
    if "g" in fixed or not caps.groups:
        g = fixed.get("g", 1)
        cg = fixed["c"] // g if "c" in fixed else draw(_extent(1, cinmax, "cin" in large))
        og = fixed["o"] // g if "o" in fixed else draw(_extent(1, coutmax, "cout" in large))
    else:
        mode = draw(st.sampled_from(["plain", "grouped", "depthwise"]))
        if depthwise:
            mode = "depthwise"
        if mode == "plain":
            g, cg = 1, draw(_extent(1, cinmax, "cin" in large))
        elif mode == "grouped":
            g, cg = draw(st.integers(2, 4)), draw(_extent(1, cinmax, "cin" in large))
        else:
            g, cg = draw(st.integers(2, max(2, min(cinmax, 16 if "cin" not in large else cinmax)))), 1
        og = draw(st.integers(1, 2)) if mode == "depthwise" else draw(_extent(1, coutmax, "cout" in large))
        if "c" in fixed or "o" in fixed:
            g, cg, og = 1, fixed.get("c", cg), fixed.get("o", og)
    n = batch if batch is not None else pick("n", _extent(1, nmax, "n" in large))
    b = (draw(st.booleans()) if bias is None else bias) and caps.bias
    return Problem(n=n, c=cg * g, o=og * g, spatial=tuple(sizes), kernel=tuple(ks), stride=tuple(ss),
                   pads=tuple(pads), dilation=tuple(ds), g=g, bias=b, dtype=dtype, regime=regime)


# -- pinned seam problems -------------------------------------------------------------------------

#: output extents on either side of every power of two from 8 to 128 (tile seams)
SEAM_EXTENTS = tuple(v for p in (8, 16, 32, 64, 128) for v in (p - 1, p, p + 1))
#: channel counts on either side of the channel blocks 8..64
SEAM_CHANNELS = tuple(v for p in (8, 16, 32, 64) for v in (p - 1, p, p + 1))
#: batch chunks
SEAM_BATCH = (7, 8, 9, 15, 16, 17)
#: kernel extents: the specialised 1/3/5/7 and the generic path beyond
SEAM_KERNELS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13)


def seam_problems(dtype: str = "f32") -> list[Problem]:
    """One problem per seam value, every other extent tiny, so that each crosses one seam cheaply:
    output width and height, C_in/G and C_out/G (plain and grouped), batch, kernel extent, dilated
    extent (40 and 41), stride above the kernel.  Regimes alternate int/dya (both exact)."""
    out = []

    def add(**kw):
        reg = ("int", "dya")[len(out) % 2]
        out.append(Problem(**{"dtype": dtype, "regime": reg, **kw}))
    for v in SEAM_EXTENTS:
        add(spatial=(3, v + 2), kernel=(3, 3), pads=(0, 0))          # W_out = v
        add(spatial=(v + 2, 4), kernel=(3, 3))                       # H_out = v
    for v in SEAM_CHANNELS:
        add(c=v, spatial=(4, 4), kernel=(3, 3), o=2, pads=(1, 1))
        add(o=v, spatial=(4, 4), kernel=(3, 3), c=2, bias=True)
        add(c=2 * v, o=4, g=2, spatial=(3, 3), kernel=(1, 1))         # grouped: C/G = v
    for v in SEAM_BATCH:
        add(n=v, c=2, o=2, spatial=(5, 5), kernel=(3, 3))
    for k in SEAM_KERNELS:
        add(spatial=(k + 3, k + 2), kernel=(k, k), c=2, o=2)
    add(spatial=(42, 43), kernel=(4, 3), dilation=(13, 20), c=1, o=1)     # dilated extents 40 x 41
    add(spatial=(43, 42), kernel=(5, 2), dilation=(10, 39), c=1, o=1)     # dilated extents 41 x 40
    add(spatial=(20, 23), kernel=(3, 3), stride=(5, 7), c=2, o=2)         # stride beyond the kernel
    return out


def seam_cases(dtypes=("f32", "f64")) -> list[Case]:
    """The seam problems with seeded data (hypothesis @examples of the contract claims)."""
    return [Case.seeded(p, 1) for dt in dtypes for p in seam_problems(dt)]


def signal_seam_cases(dtypes=("f64", "f32")) -> list[Case]:
    """Signal problems one past/at/before the 128-wide tile and past the kernel sizes 7 and 11."""
    out = []
    for dt in dtypes:
        for i, (m, q) in enumerate([(127, 3), (128, 2), (129, 3), (120, 11), (125, 13), (9, 12)]):
            for mode in ("full", "same", "valid"):
                p = SignalProblem(a=(3, m), k=(2, min(q, 3) if m > 20 else q), mode=mode, dtype=dt,
                                  regime=("int", "dya")[i % 2])
                if m <= 20:
                    p = SignalProblem(a=(m, 14), k=(q, q), mode=mode, dtype=dt, regime="int")
                out.append(Case.seeded(p, 1))
    return out


@st.composite
def conv_cases(draw, caps, value_level=True, **opts):
    """(Problem, data) for the conv2d contract; ``value_level=False`` always fills data from a seed
    (for claims whose counterexamples are about rounding, where value shrinking only wastes time)."""
    p = draw(conv_problems(caps, **opts))
    shapes = [("x", p.x_shape), ("w", p.w_shape)] + ([("b", p.b_shape)] if p.bias else [])
    return draw(data_for(p, shapes, value_level=value_level))


#: large tier of the signal ops: (size, kernel)
SIGNAL_LARGE = (160, 13)


def kernel_size(parity: str | None, max_k: int):
    """A kernel extent in 1..max_k, odd or even when ``parity`` says so (shrinks towards 1 or 2)."""
    if parity == "odd":
        return st.integers(0, (max_k - 1) // 2).map(lambda i: 2 * i + 1)
    if parity == "even":
        return st.integers(1, max_k // 2).map(lambda i: 2 * i)
    return st.integers(1, max_k)


@st.composite
def signal_problems(draw, caps, *, modes=("full", "same", "valid"), ndim=2, kernel_parity=None,
                    dtypes=None, regimes=("int", "dya", "flt"), max_size=16, max_kernel=7, large_only=False):
    """A :class:`SignalProblem`; ``kernel_parity`` 'odd'/'even' pins the parity of every kernel dim."""
    mode = draw(st.sampled_from(modes))
    kernel_parity = kernel_parity or getattr(caps, "kernel_parity", None)   # a backend taking odd kernels only
    dtype = draw(st.sampled_from(_dtypes(caps, dtypes, "signal") or ["f64"]))
    usable = [r for r in regimes if r != "dya" or dtype in ("f16", "bf16", "f32", "f64")]
    regime = draw(st.sampled_from(usable or ["int"])) if dtype[0] in "fbc" else "int"
    sizes, kernels = [max_size] * ndim, [max_kernel] * ndim
    if large_only or draw(st.integers(0, 7)) == 7:          # large tier: one axis past 130, kernels past 11
        big = draw(st.integers(0, ndim - 1))
        sizes[big] = caps.bound("size", SIGNAL_LARGE[0])
        kernels = [caps.bound("kernel", SIGNAL_LARGE[1])] * ndim

    k = tuple(draw(kernel_size(kernel_parity, km)) for km in kernels)
    if mode == "valid" and draw(st.integers(0, 3)) == 0:   # the kernel is the larger array
        a = tuple(draw(st.integers(1, kk)) for kk in k)
    elif mode == "valid":
        a = tuple(draw(st.integers(kk, max(kk, sm))) for kk, sm in zip(k, sizes))
    else:
        a = tuple(draw(st.integers(1, sm)) for sm in sizes)
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



# -- the transposed conv and the gradients of conv2d (issue 10) ---------------------------------

@st.composite
def transpose_problems(draw, caps, *, dtypes=None, regimes=("int", "dya", "flt"), gradient=False, bias=None,
                       max_size=6, max_channels=3, max_batch=2, max_kernel=3, max_stride=3, max_dilation=3,
                       rank=2, **fixed):
    """A valid :class:`convspec.model.problem.TransposeProblem` in ``rank`` spatial dims within ``caps``: per axis
    kernel -> dilation -> stride -> output_padding (below max(stride, dilation); below the stride when
    ``gradient``, so that the problem is the input gradient of a conv) -> input size -> padding (at most
    what leaves a non-empty output).  ``fixed`` pins one axis as :data:`PINNABLE` does, ``op`` the
    output_padding (e.g. ``sh=3``, ``oph=2``).  A 3-D problem keeps its extents small (at most 4, kernel 2,
    stride and dilation 2)."""

    def pick(name, strategy):
        return fixed[name] if name in fixed else draw(strategy)

    letters = AXES[rank]
    if rank == 3:
        max_size, max_kernel, max_stride, max_dilation = min(max_size, 4), min(max_kernel, 2), 2, 2
    dtype, regime = _dtype_and_regime(pick, caps, dtypes, regimes)
    kmax = caps.bound("kernel", max_kernel)
    ks = [pick("k" + a, st.integers(1, kmax)) for a in letters]
    dmax, smax = caps.bound("dilation", max_dilation), caps.bound("stride", max_stride)
    ds = [pick("d" + a, st.integers(1, dmax)) for a in letters]
    ss = [pick("s" + a, st.integers(1, smax)) for a in letters]
    below_stride = gradient or caps.output_padding == "stride"      # the declared rule (base.OUTPUT_PADDING)
    ops = [pick("op" + a, st.integers(0, (s if below_stride else max(s, d)) - 1)) for a, s, d in zip(letters, ss, ds)]
    smax_hw = caps.bound("size", max_size)
    sizes = [pick(a, st.integers(1, smax_hw)) for a in letters]
    pads = []
    for a, L, k, s, d, op in zip(letters, sizes, ks, ss, ds, ops):
        pmax = min(k + 1, ((L - 1) * s + d * (k - 1) + op) // 2) if caps.padding else 0
        pads.append(pick("p" + a, st.integers(0, pmax)))
    cmax = caps.bound("channels", max_channels)
    g = pick("g", st.integers(1, 3)) if caps.groups else 1
    cg, og = draw(st.integers(1, cmax)), draw(st.integers(1, cmax))
    n = pick("n", st.integers(1, caps.bound("batch", max_batch)))
    b = (draw(st.booleans()) if bias is None else bias) and caps.bias and not gradient
    return TransposeProblem(n=n, c=cg * g, o=og * g, spatial=tuple(sizes), kernel=tuple(ks), stride=tuple(ss),
                            pads=tuple(pads), dilation=tuple(ds), out_pad=tuple(ops), g=g, bias=b, dtype=dtype,
                            regime=regime)


def _forward_input(draw, p):
    """The forward conv's input (N, O, L'...) of a TransposeProblem, in its dtype and regime (int or flt):
    value by value when small, else from a drawn seed."""
    shape = p.y_shape
    if int(np.prod(shape)) <= VALUE_LEVEL_NUMEL:
        return draw(_array(shape, p.dtype, "int" if p.regime == "int" else "flt"))
    rng = np.random.default_rng([draw(st.integers(0, 2 ** 32 - 1)), 0xF0D])
    if p.regime == "int":
        r = int_range(p.dtype)
        return cast(rng.integers(-r, r + 1, size=shape).astype(np.float64), p.dtype)
    return cast(rng.standard_normal(shape), p.dtype)


@st.composite
def transpose_cases(draw, caps, *, weight=False, forward=False, **opts):
    """(TransposeProblem, data): x (the transposed conv's input = grad_out of the conv it transposes),
    w, b; with ``weight=True`` also xf, the forward input the weight gradient needs (then the problem is
    a gradient problem and the dyadic regime is not drawn); ``forward=True`` adds xf alone (for the
    adjoint, whatever the output_padding)."""
    if weight or forward:
        opts["regimes"] = tuple(r for r in opts.get("regimes", ("int", "flt")) if r != "dya") or ("int",)
    if weight:
        opts["gradient"] = True
        opts["regimes"] = tuple(r for r in opts.get("regimes", ("int", "flt")) if r != "dya") or ("int",)
    p = draw(transpose_problems(caps, **opts))
    shapes = [("x", p.x_shape), ("w", p.w_shape)] + ([("b", p.b_shape)] if p.bias else [])
    case = draw(data_for(p, shapes))
    if weight or forward:
        case = Case(p, {**case.arrays, "xf": _forward_input(draw, p)})
    return case


def transpose(**opts):
    """Factory: backend -> transposed-conv/gradient case strategy (``rank=`` 1, 2 or 3)."""
    return lambda be: transpose_cases(be.caps, **opts)


# -- padding strings and padding modes of conv2d (issue 10) --------------------------------------

def same_padding_cases(caps, rank=2, **opts):
    """conv{rank}d cases at stride 1 (where padding='same' is defined), every kernel parity and dilation."""
    return conv_cases(caps, rank=rank, **{"s" + a: 1 for a in AXES[rank]}, **opts)


def padding_mode_cases(caps, rank=2, **opts):
    """conv{rank}d cases whose padding lies below the input size on each axis (reflect's limit: a reflection
    needs pad < size; circular's is pad <= size)."""
    return conv_problems(caps, rank=rank, **opts).filter(
        lambda p: all(max(pad) < L for pad, L in zip(p.pads, p.spatial))).flatmap(
        lambda p: data_for(p, [("x", p.x_shape), ("w", p.w_shape)] + ([("b", p.b_shape)] if p.bias else [])))
