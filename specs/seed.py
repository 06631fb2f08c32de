"""Claims from the seed documents (shared/seeds): a Cross Validated question (post 335321, file 001)
and its two answers (post 335327, file 000; post 485178, file 002).  Paraphrased, not quoted."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convspec.claims import CONDITIONAL, HOLDS, REFUTED, claim, ranked
from convspec.drawing import strategies as S
from convspec.model import layout
from convspec.model.case import Case, cast
from convspec.model.ops import RANKS
from convspec.model.problem import AXES, Problem, SignalProblem
from convspec.truth import reference as ref
from convspec.truth.check import close, equal, holds
from convspec.truth.oracle import check_conv, check_signal_modes, conv_expect, conv_of, signal_call, signal_expect
from convspec.truth.tolerance import gamma, unit_roundoff

Q = "seed 001 (question, post 335321)"
A1 = "seed 000 (answer, post 335327)"
A2 = "seed 002 (answer, post 485178)"

PATCH = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1]], dtype=np.float64)
FILTER = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)
B2 = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1]], dtype=np.float64)
A5 = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], dtype=np.float64)


def _sig(a, k, mode="valid"):
    return Case(SignalProblem(a=a.shape, k=k.shape, mode=mode), {"a": a, "k": k})


def _conv1(a, k):
    p = Problem(spatial=a.shape, kernel=k.shape)
    return Case(p, {"x": a[None, None].copy(), "w": k[None, None].copy()})


# pinned edge problems: hypothesis @example cases every general conv claim runs first, on each backend whose
# declared capabilities admit them
EDGE = [Case.seeded(Problem.parse(d), 1) for d in (
    "n1c1h1w1_o1k1x1",                      # the smallest problem
    "n1c1h2w3_o1k4x5_s1x1_p2x2",            # kernel larger than the input, saved by padding
    "n2c3h7w5_o2k2x3_s3x4_p0x1",            # stride larger than the kernel, batch > 1
    "n1c4h6w6_o8k3x3_s1x1_p3x3_d1x1_g4",   # depthwise (multiplier 2), padding = kernel size
    "n1c2h9w9_o2k3x2_s2x1_p1x0_d3x2_g1_bias",
    "n2c3h5w6_o2k1x1_s2x3_p1x0",            # 1x1 kernel with stride and padding (fast-path bugs)
    "n1c12h5w5_o3k3x3_p1x1",                # many channels (unrolled channel loops)
    "n1c24h4w4_o4k1x1_g2_bias",             # many channels per group, 1x1, bias
    "n1c2h20w18_o2k3x3_p1x1",               # more than 16 output rows (tiling remainders)
)] + [Case(Problem.parse("n1c1h3w3_o1k1x1"),              # identity 1x1 conv: the output must be a copy
           {"x": np.arange(9.0).reshape(1, 1, 3, 3) - 4, "w": np.ones((1, 1, 1, 1))})]


# 1 ------------------------------------------------------------------------------------------------
@claim(id="lecture-patch-sum", twin="dot_confusion", group="seed", source=Q, needs={"conv2d"}, expected=HOLDS,
       statement="The lecture's patch [[1,1,1],[0,1,1],[0,0,1]] and filter [[1,0,1],[0,1,0],[1,0,1]] give 4 "
                 "as the sum of element-wise products",
       cases=S.fixed(_conv1(PATCH, FILTER)))
def _(be, case):
    equal(np.sum(np.multiply(PATCH, FILTER)), 4.0, "sum(patch * filter)")
    y = be.call("conv2d", case)
    equal(y.reshape(()), 4.0, f"{be.name}.conv2d(patch, filter)")


# 2 ------------------------------------------------------------------------------------------------
@claim(id="scipy-answer-example", twin="dot_confusion", group="seed", source=f"{A1}; {Q}", needs={"convolve2d"}, expected=HOLDS,
       statement="For the answer's 5x5 A and the lecture filter, convolve2d(A, B, 'valid') is "
                 "[[4,3,4],[2,4,3],[2,3,4]]",
       cases=S.fixed(_sig(A5, FILTER)))
def _(be, case):
    y = signal_call(be, "convolve2d", case)
    equal(y, np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]], dtype=y.dtype), f"{be.name}.convolve2d(A, B, 'valid')")


# 3 ------------------------------------------------------------------------------------------------
def corr_formula(a, k):
    """C[m,n] = sum_u sum_v A[m+u, n+v] B[u,v] over the valid range, literally (float64)."""
    a, k = np.asarray(a, dtype=np.float64), np.asarray(k, dtype=np.float64)
    P, Q_ = k.shape
    out = np.zeros((a.shape[0] - P + 1, a.shape[1] - Q_ + 1))
    for m in range(out.shape[0]):
        for n in range(out.shape[1]):
            out[m, n] = sum(a[m + u, n + v] * k[u, v] for u in range(P) for v in range(Q_))
    return out


@claim(id="answer-formula-is-convolution", twin="convolve_no_flip",
       group="seed", source=A1, needs={"convolve2d"}, expected=REFUTED,
       statement="2-D discrete convolution is C[m,n] = sum_u sum_v A[m+u,n+v] B[u,v] (refuted: that is "
                 "cross-correlation; convolve2d differs unless B equals its 180-degree rotation)",
       cases=S.signal(modes=("valid",), max_size=8, max_kernel=4, regimes=("int",)))
def _(be, case):
    if any(q > m for m, q in zip(case.problem.a, case.problem.k)):
        return                       # the formula is only written for the kernel inside the input
    y = signal_call(be, "convolve2d", case)
    _, allowed = signal_expect(be, case.a, case.k, "valid", "convolve2d")
    close(y, corr_formula(case.a, case.k), 2 * allowed, f"{be.name}.convolve2d(A, B, 'valid') vs the formula",
          sides={"A": case.a, "B": case.k, "convolve2d": y, "formula": corr_formula(case.a, case.k)})


@claim(id="answer-formula-is-conv-layer", twin="flipped_kernel", group="seed", source=A1, needs={"conv2d"}, expected=HOLDS,
       statement="The same formula C[m,n] = sum_u sum_v A[m+u,n+v] B[u,v] is exactly what a CNN conv layer "
                 "computes (one channel, stride 1, no padding)",
       cases=S.conv(batch=1, c=1, o=1, g=1, sh=1, sw=1, ph=0, pw=0, dh=1, dw=1, bias=False, max_class=2))
def _(be, case):
    y = be.call("conv2d", case)
    _, allowed = conv_expect(be, case)
    f = corr_formula(case.x[0, 0], case.w[0, 0])
    close(y[0, 0], f, allowed[0, 0], f"{be.name}.conv2d vs the formula",
          sides={"A": case.x[0, 0], "B": case.w[0, 0], "conv2d": y[0, 0], "formula": f})


# 4 ------------------------------------------------------------------------------------------------
def _flip_identity(be, case):
    """convolve2d(a, k) == correlate2d(a, rot180(k)) == rot180(correlate2d(rot180(a), k)) (full/valid).

    For complex kernels correlate2d conjugates k (scipy's semantics), so the identities read with
    conj(k) on the correlation side; for real data conj is the identity."""
    mode = case.problem.mode
    conv = signal_call(be, "convolve2d", case)
    _, allowed = signal_expect(be, case.a, case.k, mode, "convolve2d")
    kr = np.ascontiguousarray(np.conj(ref.rot180(case.k)))
    corr = signal_call(be, "correlate2d", case, k=kr)
    close(conv, corr, 2 * allowed, f"{be.name}: convolve2d(a, k, {mode!r}) vs correlate2d(a, rot180(k), {mode!r})",
          sides={"a": case.a, "k": case.k, "convolve2d(a,k)": conv, "correlate2d(a,rot180 k)": corr,
                 "difference": conv - corr})
    if mode != "same":
        ar = np.ascontiguousarray(ref.rot180(case.a))
        corr2 = ref.rot180(signal_call(be, "correlate2d", case, a=ar, k=np.ascontiguousarray(np.conj(case.k))))
        close(conv, corr2, 2 * allowed, f"{be.name}: convolve2d(a, k) vs rot180(correlate2d(rot180(a), k))",
              sides={"a": case.a, "k": case.k, "convolve2d(a,k)": conv, "rot180 correlate2d(rot180 a,k)": corr2})


@claim(id="convolution-is-flipped-correlation", twin="convolve_flip_one_axis",
       group="seed", source=A2, needs={"convolve2d", "correlate2d"},
       expected=HOLDS,
       statement="Convolution is the sum of products with the kernel rotated 180 degrees (or the input flipped), "
                 "in 'full' and 'valid' modes",
       cases=S.signal(modes=("full", "valid")))
def _(be, case):
    _flip_identity(be, case)


@st.composite
def _same_not_odd(draw, be):
    """'same'-mode pairs whose kernel has an even dimension: even x even and mixed (3x2, 2x3) alike --
    the whole complement of 'every kernel dimension is odd'."""
    p = draw(S.signal_problems(be.caps, modes=("same",), regimes=("int",)).filter(
        lambda p: any(q % 2 == 0 for q in p.k)))
    return draw(S.data_for(p, [("a", p.a), ("k", p.k)]))


@claim(id="flipped-correlation-same-mode", twin="same_centring_swapped",
       group="seed", source=A2, needs={"convolve2d", "correlate2d"},
       expected=CONDITIONAL, condition="every kernel dimension is odd",
       statement="In 'same' mode, convolve2d(a, k) equals correlate2d(a, rot180(k)) only for odd kernel sizes: "
                 "scipy centres even kernels differently for the two",
       cases=S.signal(modes=("same",), kernel_parity="odd"),
       outside=lambda be: _same_not_odd(be))
def _(be, case):
    _flip_identity(be, case)


# 5 ------------------------------------------------------------------------------------------------
def _point_symmetric(m):
    """The point-symmetric kernel (k == rot180(k)) that agrees with ``m`` on the first half of its
    entries in reading order, centre included: every point-symmetric kernel with m's entries is
    reachable, the lecture filter too (its centre is odd, which m + rot180(m) could never give)."""
    flat = np.arange(m.size).reshape(m.shape)
    first = flat <= flat[::-1, ::-1]
    return np.where(first, m, m[::-1, ::-1])


@st.composite
def _symmetric_cases(draw, be, kind):
    # inside the declaration: odd extents for a backend taking odd kernels only, the signal dtypes it declares
    # (integer data: every sum here is at most 25 * 9, exact in each of these)
    sizes = st.sampled_from((3, 5)) if getattr(be.caps, "kernel_parity", None) == "odd" else st.integers(2, 5)
    n = draw(sizes)
    m = draw(sizes) if kind == "point" else n
    shape = (n, m)
    if kind == "point":
        k = _point_symmetric(draw(hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(float))))
    else:
        k = draw(S.transpose_only_symmetric_kernel(shape))
    dtype = draw(st.sampled_from([d for d in be.caps.dtypes_for("signal") if d in ("f64", "f32", "i16", "i32", "i64")]
                                 or ["f64"]))
    a = draw(S._array(shape, dtype, "int"))
    return Case(SignalProblem(a=shape, k=shape, mode="valid", dtype=dtype), {"a": a, "k": cast(k, dtype)})


@claim(id="symmetric-filter-conv-is-elementwise-sum", twin="convolve_no_flip", group="seed", source=A2, needs={"convolve2d"},
       expected=CONDITIONAL, condition="the kernel equals its 180-degree rotation (k == rot180(k))",
       statement="Convolving a patch with a same-sized filter equals the sum of element-wise products when the "
                 "filter is symmetric -- true for point symmetry, false for mere transpose symmetry (k == k.T)",
       cases=lambda be: _symmetric_cases(be, "point"), outside=lambda be: _symmetric_cases(be, "transpose"),
       examples=(_sig(PATCH, FILTER),))
def _(be, case):
    y = signal_call(be, "convolve2d", case)
    _, allowed = signal_expect(be, case.a, case.k, "valid", "convolve2d")
    s = np.sum(np.multiply(case.a.astype(np.float64), case.k.astype(np.float64)))
    close(y.reshape(()).astype(np.float64), s, 2 * float(allowed.reshape(())),
          f"{be.name}.convolve2d(patch, k, 'valid') vs sum(patch * k)",
          sides={"patch": case.a, "k": case.k, "rot180(k)": ref.rot180(case.k), "convolve2d": y,
                 "sum(patch*k)": np.array([[s]])})


# 6 ------------------------------------------------------------------------------------------------
@claim(id="asymmetric-filter-example", twin="convolve_no_flip", group="seed", source=A2, needs={"convolve2d"}, expected=HOLDS,
       statement="With A = [[1,1,1],[0,1,1],[0,0,1]] and B2 = [[1,0,0],[0,1,0],[1,0,1]], the element-wise sum "
                 "is 3 while convolve2d(A, B2, 'valid') is [[4]]",
       cases=S.fixed(_sig(PATCH, B2)))
def _(be, case):
    equal(np.sum(np.multiply(PATCH, B2)), 3.0, "sum(A * B2)")
    y = signal_call(be, "convolve2d", case)
    equal(y, np.array([[4.0]], dtype=y.dtype), f"{be.name}.convolve2d(A, B2, 'valid')")


# 7 ------------------------------------------------------------------------------------------------
@claim(id="dot-2d-example", twin="dot_elementwise", group="seed", source=f"{A2}; {Q}", needs={"dot2d"}, expected=HOLDS,
       statement="np.dot of the 3x3 patch and the lecture filter is the matrix [[2,1,2],[1,1,1],[1,0,1]], "
                 "not the scalar 4",
       cases=S.fixed(_sig(PATCH, FILTER)))
def _(be, case):
    d = be.op("dot2d")(case.a, case.k)
    equal(np.asarray(d), np.array([[2, 1, 2], [1, 1, 1], [1, 0, 1]], dtype=np.float64), f"{be.name}.dot2d(A, B)")


@st.composite
def _square_pairs(draw, be, max_n=4):
    n = draw(st.integers(1, max_n))
    dtype = draw(st.sampled_from([d for d in be.caps.dtypes_for("signal") if d in ("f64", "f32", "i16", "i32", "i64")]
                                 or ["f64"]))
    regime = draw(st.sampled_from(["int", "flt"]))
    return Case(SignalProblem(a=(n, n), k=(n, n), mode="valid", dtype=dtype, regime=regime),
                {"a": draw(S._array((n, n), dtype, regime)), "k": draw(S._array((n, n), dtype, regime))})


@claim(id="dot-2d-is-elementwise-sum", twin="dot_returns_sum",
       group="seed", source=f"{Q}; {A2}", needs={"dot2d"}, expected=REFUTED,
       statement="For 2-D arrays, dot(A, B) equals the sum of element-wise products (refuted: it is a matrix "
                 "product)",
       cases=lambda be: _square_pairs(be))
def _(be, case):
    d = np.asarray(be.op("dot2d")(case.a, case.k))
    s = np.sum(case.a.astype(np.float64) * case.k.astype(np.float64))
    holds(d.shape == () or d.size == 1, f"{be.name}.dot2d(A, B) has shape {d.shape}, the element-wise sum is a "
          f"scalar ({s:g})", sides={"A": case.a, "B": case.k, "dot(A,B)": d, "sum(A*B)": np.array([[s]])})
    n = case.a.size
    u = unit_roundoff(case.problem.dtype if case.problem.dtype in ("f32", "f64") else "f64")
    close(d.reshape(()).astype(np.float64), s, 2 * gamma(n, u) * np.sum(np.abs(case.a * case.k)) + 0.0,
          "dot(A, B) vs sum(A * B)")


@claim(id="vec-dot-is-elementwise-sum-is-trace", twin="dot_drops_last_term",
       group="seed", source=A2, needs={"dot2d"}, expected=HOLDS,
       statement="vec(A).vec(B) == sum(A * B) == trace(A^T B): the element-wise sum is the dot product of the "
                 "flattened arrays",
       cases=lambda be: _square_pairs(be, max_n=6))
def _(be, case):
    a, b = case.a, case.k
    f = be.op("dot2d")
    v = np.asarray(f(a.reshape(1, -1), b.reshape(-1, 1))).reshape(())
    t = np.trace(np.asarray(f(np.ascontiguousarray(a.T), b)))
    s = np.sum(a.astype(np.float64) * b.astype(np.float64))
    u = unit_roundoff(case.problem.dtype)
    bound = (gamma(a.size, u) + gamma(a.size, 2.0 ** -53)) * float(np.sum(np.abs(a.astype(np.float64) * b)))
    exact = case.problem.regime == "int"
    close(np.float64(v), s, 0.0 if exact else bound, f"{be.name}: vec(A).vec(B) vs sum(A*B)",
          sides={"A": a, "B": b})
    close(np.float64(t), s, 0.0 if exact else bound, f"{be.name}: trace(dot(A^T, B)) vs sum(A*B)",
          sides={"A": a, "B": b})


# 8 ------------------------------------------------------------------------------------------------
@claim(id="output-is-filter-dot-receptive-field", twin="bias_wrong_axis", group="seed", source=f"{Q} (quoted course notes)",
       needs={"conv2d"}, expected=HOLDS,
       statement="Each output of a conv layer is the dot product of the flattened filter (all its channels) "
                 "with the flattened receptive field, plus the bias",
       cases=S.conv(), examples=EDGE)
def _(be, case):
    p = case.problem
    y = be.call("conv2d", case).astype(np.float64)
    _, allowed = conv_expect(be, case)
    xp = np.pad(case.x.astype(np.float64), ((0, 0), (0, 0), *p.pads))
    (sh, sw), (dh, dw), (ekh, ekw) = p.stride, p.dilation, p.extent
    rng = np.random.default_rng(0)
    idx = list(np.ndindex(*y.shape))
    if len(idx) > 64:
        idx = [idx[i] for i in rng.choice(len(idx), 64, replace=False)]
    cg, og = p.c // p.g, p.o // p.g
    for n, o, i, j in idx:
        g = o // og
        field = xp[n, g * cg:(g + 1) * cg, i * sh:i * sh + ekh:dh, j * sw:j * sw + ekw:dw]
        dot = float(np.dot(case.w[o].astype(np.float64).ravel(), field.ravel()))
        dot += float(case.b[o]) if case.b is not None else 0.0
        close(y[n, o, i, j], dot, allowed[n, o, i, j], f"{be.name}.conv2d{[n, o, i, j]} vs filter . field + bias",
              sides={"filter": case.w[o], "receptive field": field, "x": case.x})


# 9 ------------------------------------------------------------------------------------------------
def _group_blocks(be, case):
    """W_row is block diagonal, measured on the backend itself: with only group g's input channels
    nonzero, the output channels of every other group must stay 0 (within the error model: exactly 0
    for direct sums, whose terms there are all 0 * w)."""
    p = case.problem
    cg, og = p.c // p.g, p.o // p.g
    pb = p.with_(bias=False)
    for g in range(p.g):
        xg = np.zeros_like(case.x)
        xg[:, g * cg:(g + 1) * cg] = case.x[:, g * cg:(g + 1) * cg]
        probe = conv_of(xg, case.w, problem=pb)
        y = be.call(p.op, probe)
        exp, allowed = conv_expect(be, probe)
        others = np.ones(p.o, dtype=bool)
        others[g * og:(g + 1) * og] = False
        close(y[:, others], exp[:, others], allowed[:, others],
              f"W_row is not block diagonal: {be.name}.{p.op} with only group {g}'s input channels nonzero, on the "
              "output channels of the other groups", sides={"x (group only)": xg, "w": case.w, "observed": y})


def _im2col_matmul(be, case):
    p = case.problem
    if p.g > 1:
        _group_blocks(be, case)
    y = be.call(p.op, case)
    _, allowed = conv_expect(be, case)
    mm = ref.im2col(case.x, case.w, case.b, **p.kwargs())
    close(y, mm, allowed, f"{be.name}.{p.op} vs W_row @ X_col",
          sides={"x": case.x, "w": case.w, "observed": y, "W_row @ X_col": mm})


for _r in RANKS:
    claim(id=ranked("im2col-matmul", _r), twin="dilation_off_by_one" if _r == 2 else "numpy_conv_flipped",
          group="seed", source=f"{Q} (quoted course notes)", needs={f"conv{_r}d"},
          expected=HOLDS, budget=1.0 if _r == 2 else 0.5,
          statement=f"A conv{_r}d layer is one matrix product W_row . X_col (im2col) for every stride, padding and "
                    "dilation, with groups as a block-diagonal W_row",
          cases=S.conv(rank=_r, asymmetric=None), examples=EDGE if _r == 2 else ())(_im2col_matmul)


# 10/11 ---------------------------------------------------------------------------------------------
def _one_by_one(rank):
    """Pins of a 1x1 (1, 1x1x1) conv with stride 1, no padding, no dilation, one group, in ``rank`` dims."""
    return {**{f"{k}{a}": v for a in AXES[rank] for k, v in (("k", 1), ("s", 1), ("p", 0), ("d", 1))}, "g": 1}


def _channel_matmul(be, case):
    p = case.problem
    y = be.call(p.op, case)
    _, allowed = conv_expect(be, case)
    mm = np.einsum("nc...,oc->no...", case.x.astype(np.float64), case.w.reshape(p.o, p.c).astype(np.float64))
    if case.b is not None:
        mm = mm + case.b.astype(np.float64).reshape((1, -1) + (1,) * p.rank)
    close(y, mm, allowed, f"{be.name}.{p.op} (1x1) vs W @ x per position", sides={"x": case.x,
                                                                                 "W": case.w.reshape(p.o, p.c)})


def _keeps_size(be, case):
    p = case.problem
    args, kw = layout.to_layout(p.op, (case.x, case.w, case.b), p.kwargs(), be.caps)
    y = be.op(p.op)(*args, **kw)    # raw call (in the implementation's declared layout): the shape is the property
    shape, want = np.shape(y), layout.expected_in_layout(p.op, (p.n, p.o, *p.spatial), be.caps)
    holds(shape == want, f"{be.name}.{p.op} (1x1, stride 1, pad 0) of {np.shape(args[0])} gave {shape}, expected {want}")


for _r in RANKS:
    claim(id=ranked("1x1-conv-is-channel-matmul", _r), twin="channels_reversed" if _r == 2 else "numpy_channels_reversed",
          group="seed", source=A1, needs={f"conv{_r}d"}, expected=HOLDS,
          statement="A 1x1 conv is, at every position, the dot product of the channel vector with each filter: a "
                    "matrix product over channels" + ("" if _r == 2 else f" (conv{_r}d)"),
          cases=S.conv(rank=_r, **_one_by_one(_r)), budget=1.0 if _r == 2 else 0.5)(_channel_matmul)
    claim(id=ranked("1x1-conv-keeps-height-width", _r), twin="pads_1x1" if _r == 2 else "numpy_pads_1x1",
          group="seed", source=A1, needs={f"conv{_r}d"},
          expected=HOLDS, budget=1.0 if _r == 2 else 0.25,
          statement="A 1x1 conv with stride 1 and no padding changes the depth, not the spatial size"
                    + ("" if _r == 2 else f" (conv{_r}d)"),
          cases=S.conv(rank=_r, **_one_by_one(_r)))(_keeps_size)


# 12 -------------------------------------------------------------------------------------------------
def _unit(rank, **extra):
    return {**{f"{k}{a}": v for a in AXES[rank] for k, v in (("s", 1), ("p", 0), ("d", 1))}, **extra}


def _sum_of_correlations(be, case):
    p = case.problem
    y = be.call(p.op, case)
    _, allowed = conv_expect(be, case)
    x, w = case.x.astype(np.float64), case.w.astype(np.float64)
    s = np.zeros(y.shape)
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            for c in range(x.shape[1]):
                s[n, o] += ref.correlate(x[n, c], w[o, c], "valid")
    close(y, s, allowed, f"{be.name}.{p.op} vs sum_c correlate(x[n,c], w[o,c], 'valid')",
          sides={"x": case.x, "w": case.w, "observed": y, "sum of correlations": s})


for _r in RANKS:
    claim(id=ranked("conv-is-sum-of-channel-correlations", _r),
          twin="drops_last_channel" if _r == 2 else "numpy_drops_last_channel",
          group="seed", source=A1, needs={f"conv{_r}d"},
          expected=HOLDS, budget=1.0 if _r == 2 else 0.5,
          statement=f"A multi-channel conv layer is the sum over input channels of single-channel {_r}-D "
                    "cross-correlations (valid mode)",
          cases=S.conv(rank=_r, max_class=2, bias=False, **_unit(_r, g=1)))(_sum_of_correlations)


# 13 -------------------------------------------------------------------------------------------------
def _fc_layer(be, case):
    y = be.call(case.problem.op, case)
    _, allowed = conv_expect(be, case)
    p = case.problem
    W = case.w.reshape(p.o, -1).astype(np.float64)
    fc = case.x.reshape(p.n, -1).astype(np.float64) @ W.T
    if case.b is not None:
        fc = fc + case.b.astype(np.float64)
    close(y.reshape(p.n, p.o), fc, allowed.reshape(p.n, p.o), f"{be.name}.{p.op} (whole-input kernel) vs W x + b",
          sides={"x": case.x, "W": W, p.op: y.reshape(p.n, p.o), "Wx+b": fc})


for _r in RANKS:
    claim(id=ranked("fc-layer-is-whole-input-conv", _r), twin="flipped_kernel" if _r == 2 else "numpy_conv_flipped",
          group="seed", source=f"{A1} (note 2); {Q} (quoted book)",
          needs={f"conv{_r}d"}, expected=HOLDS, budget=1.0 if _r == 2 else 0.5,
          statement="A fully connected layer y = W x + b (a dot product per output) equals a conv layer whose "
                    "kernel covers the whole input" + ("" if _r == 2 else f" (conv{_r}d)"),
          cases=S.conv(rank=_r, kernel=lambda *sizes: sizes, g=1, max_class=2))(_fc_layer)


# 14 -------------------------------------------------------------------------------------------------
def tap_keys(p: Problem, cols):
    """For output rows (o, i, j) and probed input columns (c, r, q): the index of the weight
    w[o, c mod C/G, u, v] that links them (r = i sH + u dH - pH, q = j sW + v dW - pW, c in o's group), or
    -1 where the input lies outside the output's receptive field.  Geometry only, never the weights."""
    (ho, wo), (kh, kw), (sh, sw), (dh, dw), ((ph, _), (pw, _)) = p.out_spatial(), p.kernel, p.stride, p.dilation, p.pads
    cg, og = p.c // p.g, p.o // p.g
    c, r, q = (a[None, :] for a in np.unravel_index(np.asarray(cols), (p.c, *p.spatial)))
    o, i, j = (a[:, None] for a in np.unravel_index(np.arange(p.o * ho * wo), (p.o, ho, wo)))
    du, dv = r + ph - i * sh, q + pw - j * sw
    u, v = du // dh, dv // dw
    ok = ((du % dh == 0) & (dv % dw == 0) & (u >= 0) & (u < kh) & (v >= 0) & (v < kw)
          & (c // cg == o // og))
    return np.where(ok, ((o * cg + c % cg) * kh + u) * kw + v, -1)


@claim(id="conv-matrix-is-block-toeplitz", twin="global_mean_leak", group="seed", source=f"{A2} (last note)", needs={"conv2d"},
       expected=HOLDS,
       statement="A conv layer is not an arbitrary fully connected layer: its matrix is doubly block Toeplitz "
                 "(weights shared across positions; each input reaches at most C_out/G*kH*kW outputs)",
       cases=S.conv(batch=1, bias=False, max_class=0, max_size=5))
def _(be, case):
    """Each part is measured on the backend's own matrix M (probed with unit impulses) before M is
    compared with the Toeplitz matrix of w, so each can fail on its own: (1) reach: no input reaches more
    than C_out/G*kH*kW outputs; (2) locality: M is 0 outside the receptive fields; (3) weight sharing:
    entries that the geometry assigns to the same weight are equal; (4) those entries are the weights."""
    p = case.problem
    nin = p.c * math.prod(p.spatial)
    probe_cols = np.unique(np.linspace(0, nin - 1, min(nin, 32)).round().astype(int))   # <= 32 input positions
    basis = np.eye(nin, dtype=case.x.dtype)[probe_cols].reshape(len(probe_cols), p.c, *p.spatial)
    outs = []
    step = be.caps.max_batch or 8
    for s in range(0, len(basis), step):      # probe the linear map with unit impulses, max_batch at a time
        chunk = np.ascontiguousarray(basis[s:s + step])
        outs.append(be.call("conv2d", conv_of(chunk, case.w, problem=p.with_(n=len(chunk)))))
    M = np.concatenate(outs).reshape(len(basis), -1).T.astype(np.float64)   # rows: outputs, columns: probed inputs
    probe = conv_of(basis, case.w, problem=p.with_(n=len(basis)))
    exp, allowed = conv_expect(be, probe)
    T = exp.reshape(len(basis), -1).T
    A = np.asarray(allowed, dtype=np.float64).reshape(len(basis), -1).T
    sides = {"w": case.w, "observed columns": M}
    reach = p.o // p.g * math.prod(p.kernel)
    nnz = np.count_nonzero(np.abs(M) > A, axis=0)                  # per probed input: outputs it reaches
    holds(int(nnz.max(initial=0)) <= reach, f"an input of {be.name}.conv2d reaches {int(nnz.max(initial=0))} outputs, "
          f"more than C_out/G*kH*kW = {reach} (no locality)", sides=sides)
    key = tap_keys(p, probe_cols)
    out = key < 0
    close(M[out], np.zeros(int(out.sum())), A[out], f"{be.name}.conv2d as a matrix outside the receptive fields "
          "(an output depends on an input its window does not cover)", sides=sides)
    inside = np.flatnonzero(~out.ravel())
    order = inside[np.argsort(key.ravel()[inside], kind="stable")]
    ks = key.ravel()[order]
    first = order[np.searchsorted(ks, ks)]                        # the first entry sharing each entry's weight
    Mf, Af = M.ravel(), A.ravel()
    close(Mf[order], Mf[first], Af[order] + Af[first], f"{be.name}.conv2d as a matrix: entries of the same "
          "weight w[o, c, u, v] at different positions (weights not shared)", sides=sides)
    close(M, T, A, f"{be.name}.conv2d as a matrix (columns {probe_cols.tolist()}) vs the Toeplitz matrix of w",
          sides={"w": case.w, "observed columns": M, "Toeplitz columns": T})


# 15 -------------------------------------------------------------------------------------------------
@claim(id="lecture-filter-point-symmetric", twin="dot_confusion", group="seed", source=A2, needs={"convolve2d", "correlate2d"},
       expected=HOLDS,
       statement="The lecture's filter [[1,0,1],[0,1,0],[1,0,1]] equals its 180-degree rotation, so convolving "
                 "with it equals correlating with it",
       cases=lambda be: S._array((5, 5), "f64", "int").map(lambda a: _sig(a, FILTER)))
def _(be, case):
    equal(ref.rot180(FILTER), FILTER, "rot180(filter) vs filter")
    conv = signal_call(be, "convolve2d", case)
    corr = signal_call(be, "correlate2d", case)
    equal(conv, corr, f"{be.name}: convolve2d(a, F) vs correlate2d(a, F)",
          sides={"a": case.a, "F": FILTER, "convolve2d": conv, "correlate2d": corr})


# 16 -------------------------------------------------------------------------------------------------
@claim(id="full-convolution-commutes", twin="convolve_flip_one_axis",
       group="seed", source=A2, needs={"convolve2d"}, expected=HOLDS,
       statement="Full convolution commutes: convolve2d(a, k) == convolve2d(k, a)",
       cases=S.signal(modes=("full",)))
def _(be, case):
    if getattr(be.caps, "kernel_parity", None) == "odd" and any(n % 2 == 0 for n in case.problem.a):
        return      # the swapped call passes a as the kernel: a backend taking odd kernels only gets odd a's
    ak = signal_call(be, "convolve2d", case)
    ka = signal_call(be, "convolve2d", case, a=case.k, k=case.a)
    _, allowed = signal_expect(be, case.a, case.k, "full", "convolve2d")
    close(ak, ka, 2 * allowed, f"{be.name}: convolve2d(a, k) vs convolve2d(k, a)",
          sides={"a": case.a, "k": case.k, "convolve2d(a,k)": ak, "convolve2d(k,a)": ka})


@claim(id="correlation-commutes", twin="correlate_is_convolve", group="seed", source=A2, needs={"correlate2d"}, expected=REFUTED,
       statement="Correlation commutes like convolution: correlate2d(a, k) == correlate2d(k, a) (refuted)",
       cases=S.signal(modes=("full",), regimes=("int",)))
def _(be, case):
    ak = signal_call(be, "correlate2d", case)
    ka = signal_call(be, "correlate2d", case, a=case.k, k=case.a)
    _, allowed_ak = signal_expect(be, case.a, case.k, "full", "correlate2d")
    _, allowed_ka = signal_expect(be, case.k, case.a, "full", "correlate2d")
    close(ak, ka, allowed_ak + allowed_ka, f"{be.name}: correlate2d(a, k) vs correlate2d(k, a)",
          sides={"a": case.a, "k": case.k, "correlate2d(a,k)": ak, "correlate2d(k,a)": ka, "difference": ak - ka})


@claim(id="correlation-swap-is-rot180", twin="correlate_is_convolve",
       group="seed", source=A2, needs={"correlate2d"}, expected=HOLDS,
       statement="Swapping correlation's arguments rotates the result: correlate2d(a, k) == "
                 "rot180(correlate2d(k, a)) (full mode; conjugated for complex data, as correlate2d conjugates "
                 "its second argument)",
       cases=S.signal(modes=("full",)))
def _(be, case):
    ak = signal_call(be, "correlate2d", case)
    ka = np.conj(ref.rot180(signal_call(be, "correlate2d", case, a=case.k, k=case.a)))
    _, allowed_ak = signal_expect(be, case.a, case.k, "full", "correlate2d")
    _, allowed_ka = signal_expect(be, case.k, case.a, "full", "correlate2d")
    close(ak, ka, allowed_ak + ref.rot180(allowed_ka), f"{be.name}: correlate2d(a, k) vs rot180(correlate2d(k, a))",
          sides={"a": case.a, "k": case.k, "correlate2d(a,k)": ak, "rot180 correlate2d(k,a)": ka})


# the contract itself: every op against the definition -----------------------------------------------
def _matches_definition(be, case):
    check_conv(be, case, be.call(case.problem.op, case), what=case.problem.op)


for _r in RANKS:
    claim(id=ranked("conv2d-matches-definition", _r), twin="flipped_kernel" if _r == 2 else "numpy_conv_flipped",
          group="seed", source="contract (README); seed 000 formula",
          needs={f"conv{_r}d"}, expected=HOLDS,
          statement=f"conv{_r}d equals the direct sum of the definition for every shape, stride, padding (symmetric, "
                    "or (before, after) pairs where declared), dilation, groups, bias and dtype, within the error model",
          cases=S.conv(rank=_r, asymmetric=None), examples=EDGE if _r == 2 else (),
          budget=2.0 if _r == 2 else 1.0)(_matches_definition)


#: complex 'valid' with the kernel the larger: where scipy 1.17's correlate2d conjugates (specs/libraries/findings_scipy.py)
SWAPPED_COMPLEX = Case(SignalProblem(a=(1, 1), k=(1, 2), mode="valid", dtype="c128", regime="int"),
                       {"a": np.array([[1 + 0j]]), "k": np.array([[1j, 0]])})

for _op in ("convolve2d", "correlate2d"):
    claim(id=f"{_op}-matches-definition",
          twin={"convolve2d": "same_centring_swapped", "correlate2d": "correlate_forgets_conj"}[_op],
          group="seed", source="contract (README); scipy.signal semantics",
          needs={_op}, expected=HOLDS, examples=(SWAPPED_COMPLEX,),
          statement=f"{_op} follows scipy.signal's definition in every mode, including 'same' centring for even "
                    "kernels and 'valid' with the kernel the larger array",
          cases=S.signal())(lambda be, case, _op=_op: check_signal_modes(be, case, (_op,)))
