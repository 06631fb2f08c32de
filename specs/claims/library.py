"""Real-world claims about numpy, scipy and torch: what the libraries actually do, with sources.

Each property takes the library function under audit from the backend (``be.op(...)``), so that a
wrong stand-in can be shown to fail it (tests/selftest/twins_extra.py); other libraries that serve as
comparison points are called directly.  Verdicts are for the pinned versions (torch 2.13.0, the numpy
and scipy the environment resolves); where a verdict is version-dependent the claim says so.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage, signal

from .. import reference as ref
from .. import strategies as S
from ..case import Case, cast
from ..check import Mismatch, close, equal, holds
from ..oracle import conv_allowed, conv_expect, conv_of
from ..problem import Problem, SignalProblem
from ..tolerance import ACCUMULATIONS, accumulation_for, direct_bound
from . import CONDITIONAL, HOLDS, REFUTED, claim

ints = st.integers(-4, 4).map(float)


def _sig_case(a, k, mode="same", dtype="f64", regime="int", extra=()):
    return Case(SignalProblem(a=a.shape, k=k.shape, mode=mode, dtype=dtype, regime=regime, extra=tuple(extra)),
                {"a": a, "k": k})


@st.composite
def pairs2d(draw, parity=None, max_size=10, max_k=6, mode="same", dtype=np.float64):
    k_shape = (draw(S.kernel_size(parity, max_k)), draw(S.kernel_size(parity, max_k)))
    a_shape = (draw(st.integers(max(k_shape[0], 1), max_size)), draw(st.integers(max(k_shape[1], 1), max_size)))
    a = draw(hnp.arrays(np.float64, a_shape, elements=ints)).astype(dtype)
    k = draw(hnp.arrays(np.float64, k_shape, elements=ints)).astype(dtype)
    return _sig_case(a, k, mode)


@st.composite
def pairs1d(draw, max_n=12, dtype=np.float64, elements=ints, parity=None):
    m = draw(st.integers(1, max_n))
    n = draw(S.kernel_size(parity, 9 if parity else max_n))
    base = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    a = draw(hnp.arrays(base, (m,), elements=elements)).astype(dtype)
    v = draw(hnp.arrays(base, (n,), elements=elements)).astype(dtype)
    return _sig_case(a, v, "same")


def _t(a):
    import torch
    return torch.from_numpy(np.ascontiguousarray(a))


# -- torch 'same' padding ------------------------------------------------------------------------

@st.composite
def same_cases(draw, parity=None, dilated=True):
    kh, kw = draw(S.kernel_size(parity, 6)), draw(S.kernel_size(parity, 6))
    d = draw(st.integers(1, 3)) if dilated else 1
    h, w = draw(st.integers(d * (kh - 1) + 1, d * (kh - 1) + 9)), draw(st.integers(d * (kw - 1) + 1, d * (kw - 1) + 9))
    p = Problem(h=h, w=w, kh=kh, kw=kw, dh=d, dw=d)
    return Case(p, {"x": draw(hnp.arrays(np.float64, p.x_shape, elements=ints)),
                    "w": draw(hnp.arrays(np.float64, p.w_shape, elements=ints))})


@claim(id="torch-same-pads-extra-at-end", group="torch", source="pytorch/pytorch#45667", needs={"torch.conv2d_same"},
       expected=HOLDS,
       statement="torch padding='same' pads L = floor(d(k-1)/2) before and R = d(k-1) - L after: the extra "
                 "sample of an even kernel goes at the end",
       cases=lambda be: same_cases())
def _(be, case):
    p = case.problem
    y = be.op("torch.conv2d_same")(case.x, case.w, dilation=(p.dh, p.dw))
    tot_h, tot_w = p.dh * (p.kh - 1), p.dw * (p.kw - 1)
    xp = np.pad(case.x, ((0, 0), (0, 0), (tot_h // 2, tot_h - tot_h // 2), (tot_w // 2, tot_w - tot_w // 2)))
    exp = ref.direct(xp, case.w, dilation=(p.dh, p.dw))
    equal(y, exp, "torch 'same' vs explicit (L, R) padding", sides={"x": case.x, "w": case.w, "torch same": y,
                                                                     "explicit pad": exp})


@claim(id="torch-same-equals-correlate2d-same", group="torch", source="scipy/scipy#1968",
       needs={"torch.conv2d_same"}, expected=HOLDS,
       statement="torch conv2d(padding='same') equals scipy.signal.correlate2d(..., 'same') for every kernel size, "
                 "even ones included",
       cases=lambda be: same_cases(dilated=False))
def _(be, case):
    y = be.op("torch.conv2d_same")(case.x, case.w)[0, 0]
    s = signal.correlate2d(case.x[0, 0], case.w[0, 0], "same")
    equal(y, s, "torch 'same' vs correlate2d 'same'", sides={"a": case.x[0, 0], "k": case.w[0, 0], "torch": y,
                                                             "correlate2d": s})


@claim(id="torch-same-vs-signal-correlate-same", group="torch", source="scipy/scipy#1968",
       needs={"torch.conv2d_same"}, expected=CONDITIONAL, condition="every kernel dimension is odd",
       statement="torch 'same' equals scipy.signal.correlate(..., 'same') only for odd kernels: for even ones "
                 "the two are one sample apart",
       cases=lambda be: same_cases("odd", dilated=False),
       outside=lambda be: same_cases("even", dilated=False))
def _(be, case):
    y = be.op("torch.conv2d_same")(case.x, case.w)[0, 0]
    s = signal.correlate(case.x[0, 0], case.w[0, 0], "same")
    equal(y, s, "torch 'same' vs signal.correlate 'same'", sides={"a": case.x[0, 0], "k": case.w[0, 0],
                                                                  "torch": y, "signal.correlate": s})


@claim(id="torch-same-vs-np-correlate-same", group="torch", source="scipy/scipy#1968; numpy np.correlate docs",
       needs={"torch.F"}, expected=CONDITIONAL, condition="the kernel length is odd and not longer than the signal",
       statement="1-D: torch conv1d(padding='same') equals np.correlate(a, v, 'same') only for odd kernels",
       cases=lambda be: pairs1d(parity="odd").filter(lambda c: c.problem.k[0] <= c.problem.a[0]),
       outside=lambda be: pairs1d(parity="even").filter(lambda c: c.problem.k[0] <= c.problem.a[0]))
def _(be, case):
    F = be.op("torch.F")
    y = F.conv1d(_t(case.a)[None, None], _t(case.k)[None, None], padding="same")[0, 0].numpy()
    n = np.correlate(case.a, case.k, "same")
    equal(y, n, "torch conv1d 'same' vs np.correlate 'same'", sides={"a": case.a, "v": case.k, "torch": y,
                                                                      "np.correlate": n})


# -- scipy.ndimage vs scipy.signal ---------------------------------------------------------------

@claim(id="ndimage-constant-equals-convolve2d-same", group="scipy", source="scipy/scipy#23978; scipy/scipy#4580",
       needs={"scipy.ndimage.convolve", "convolve2d"}, expected=CONDITIONAL, condition="every kernel dimension is odd",
       statement="ndimage.convolve(a, k, mode='constant') equals signal.convolve2d(a, k, 'same') only for odd "
                 "kernel sizes (ndimage centres even kernels the other way)",
       cases=lambda be: pairs2d("odd"), outside=lambda be: pairs2d("even"))
def _(be, case):
    nd = be.op("scipy.ndimage.convolve")(case.a, case.k, mode="constant", cval=0.0)
    cv = be.op("convolve2d")(case.a, case.k, "same")
    equal(nd, cv, "ndimage.convolve(constant) vs convolve2d(same)",
          sides={"a": case.a, "k": case.k, "ndimage": nd, "convolve2d": cv, "difference": nd - cv})


@claim(id="ndimage-default-equals-convolve2d-same", group="scipy", source="scipy.ndimage.convolve docs (mode='reflect')",
       needs={"scipy.ndimage.convolve", "convolve2d"}, expected=REFUTED,
       statement="ndimage.convolve with its default mode equals convolve2d(..., 'same') for odd kernels (refuted: "
                 "the default mode is 'reflect', so the borders differ)",
       cases=lambda be: pairs2d("odd").filter(lambda c: max(c.problem.k) > 1))
def _(be, case):
    nd = be.op("scipy.ndimage.convolve")(case.a, case.k)
    cv = be.op("convolve2d")(case.a, case.k, "same")
    equal(nd, cv, "ndimage.convolve(default mode) vs convolve2d(same)",
          sides={"a": case.a, "k": case.k, "ndimage": nd, "convolve2d": cv, "difference": nd - cv})


# -- 'same' length conventions ---------------------------------------------------------------------

@claim(id="np-convolve-same-is-max-length-and-commutes", group="numpy", source="numpy/numpy#6316",
       needs={"np.convolve"}, expected=HOLDS,
       statement="np.convolve(a, v, 'same') has length max(M, N) and commutes: np.convolve(a, v, 'same') == "
                 "np.convolve(v, a, 'same')",
       cases=lambda be: pairs1d())
def _(be, case):
    f = be.op("np.convolve")
    av, va = f(case.a, case.k, "same"), f(case.k, case.a, "same")
    holds(av.shape == (max(case.a.size, case.k.size),), f"np.convolve(a, v, 'same') has length {av.size}, "
          f"expected max({case.a.size}, {case.k.size})", sides={"a": case.a, "v": case.k, "np.convolve(a,v)": av})
    equal(av, va, "np.convolve(a, v, 'same') vs np.convolve(v, a, 'same')",
          sides={"a": case.a, "v": case.k, "(a,v)": av, "(v,a)": va})


@claim(id="scipy-convolve-same-has-first-length", group="scipy", source="numpy/numpy#6316; scipy.signal.convolve docs",
       needs={"scipy.signal.convolve"}, expected=HOLDS,
       statement="scipy.signal.convolve(a, v, 'same') has the length of its first argument, whichever is longer",
       cases=lambda be: pairs1d())
def _(be, case):
    y = be.op("scipy.signal.convolve")(case.a, case.k, "same")
    holds(y.shape == case.a.shape, f"signal.convolve(a, v, 'same') has shape {y.shape}, expected {case.a.shape}",
          sides={"a": case.a, "v": case.k, "result": y})


@claim(id="scipy-convolve-same-commutes", group="scipy", source="numpy/numpy#6316", needs={"scipy.signal.convolve"},
       expected=REFUTED,
       statement="scipy.signal.convolve(a, v, 'same') commutes like np.convolve (refuted when the lengths differ)",
       cases=lambda be: pairs1d())
def _(be, case):
    f = be.op("scipy.signal.convolve")
    av, va = f(case.a, case.k, "same"), f(case.k, case.a, "same")
    holds(av.shape == va.shape, f"signal.convolve 'same': shape {av.shape} for (a, v), {va.shape} for (v, a)",
          sides={"a": case.a, "v": case.k, "(a,v)": av, "(v,a)": va})
    equal(av, va, "signal.convolve(a, v, 'same') vs (v, a)", sides={"a": case.a, "v": case.k, "(a,v)": av, "(v,a)": va})


# -- padding modes --------------------------------------------------------------------------------

def _extension(a, p, correlate_same):
    """The boundary extension a library applies, read back by correlating with shifted delta kernels:
    ``correlate_same(a, k)`` must return a same-sized correlation under the mode being examined."""
    out = np.empty((a.shape[0] + 2 * p, a.shape[1] + 2 * p))
    for di in range(-p, p + 1):
        for dj in range(-p, p + 1):
            k = np.zeros((2 * p + 1, 2 * p + 1))
            k[p + di, p + dj] = 1
            out[p + di:p + di + a.shape[0], p + dj:p + dj + a.shape[1]] = correlate_same(a, k)
    return out


def _ndimage_pad(a, p, mode):
    return _extension(a, p, lambda a, k: ndimage.correlate(a, k, mode=mode))


def _signal_pad(a, p, boundary):
    return _extension(a, p, lambda a, k: signal.correlate2d(a, k, "same", boundary=boundary))


@st.composite
def pad_cases(draw, max_pad=None):
    h, w = draw(st.integers(2, 7)), draw(st.integers(2, 7))
    p = draw(st.integers(1, min(h, w) - 1)) if max_pad is None else draw(st.integers(1, max_pad))
    a = draw(hnp.arrays(np.float64, (h, w), elements=st.integers(-9, 9).map(float)))
    return _sig_case(a, np.zeros((p, p)), "same", extra=(f"pad{p}",))


@claim(id="padding-mode-names-map", group="numpy", source="numpy.pad, torch.nn.functional.pad, scipy.ndimage docs",
       needs={"np.pad"}, expected=HOLDS,
       statement="Padding names map across libraries: torch reflect = numpy reflect = ndimage mirror; numpy "
                 "symmetric = ndimage reflect = convolve2d symm; replicate = edge = nearest; circular = wrap",
       cases=lambda be: pad_cases())
def _(be, case):
    import torch.nn.functional as F
    a, p = case.a, case.k.shape[0]
    pad = be.op("np.pad")

    def tpad(mode):
        return F.pad(_t(a)[None, None], (p, p, p, p), mode=mode)[0, 0].numpy()

    families = {
        "reflect (no edge repeat)": {"torch reflect": tpad("reflect"), "np reflect": pad(a, p, mode="reflect"),
                                     "ndimage mirror": _ndimage_pad(a, p, "mirror")},
        "symmetric (edge repeated)": {"np symmetric": pad(a, p, mode="symmetric"),
                                      "ndimage reflect": _ndimage_pad(a, p, "reflect"),
                                      "convolve2d symm": _signal_pad(a, p, "symm")},
        "replicate": {"torch replicate": tpad("replicate"), "np edge": pad(a, p, mode="edge"),
                      "ndimage nearest": _ndimage_pad(a, p, "nearest")},
        "circular": {"torch circular": tpad("circular"), "np wrap": pad(a, p, mode="wrap"),
                     "ndimage wrap": _ndimage_pad(a, p, "wrap"), "convolve2d wrap": _signal_pad(a, p, "wrap")},
    }
    for fam, members in families.items():
        names = list(members)
        for n in names[1:]:
            equal(members[n], members[names[0]], f"{fam}: {n} vs {names[0]}", sides={"a": a, n: members[n],
                                                                                    names[0]: members[names[0]]})


@claim(id="torch-reflect-pad-needs-pad-below-size", group="torch", source="pytorch/pytorch#18413", needs={"torch.F"},
       expected=HOLDS,
       statement="torch 'reflect' padding raises once the pad reaches the input size, while np.pad(mode='reflect') "
                 "keeps reflecting",
       cases=lambda be: pad_cases(max_pad=9))
def _(be, case):
    F = be.op("torch.F")
    a, p = case.a, case.k.shape[0]
    n = np.pad(a, p, mode="reflect")
    holds(n.shape == (a.shape[0] + 2 * p, a.shape[1] + 2 * p), "np.pad reflect changed shape unexpectedly")
    try:
        t = F.pad(_t(a)[None, None], (p, p, p, p), mode="reflect")[0, 0].numpy()
    except RuntimeError as e:
        holds(p >= min(a.shape), f"torch reflect raised for pad {p} < size {a.shape}: {e}")
        return
    holds(p < min(a.shape), f"torch reflect accepted pad {p} >= input size {a.shape}")
    equal(t, n, "torch reflect vs np.pad reflect", sides={"a": a, "torch": t, "numpy": n})


# -- FFT convolution -----------------------------------------------------------------------------

@st.composite
def fft_cases(draw):
    """Non-negative data of mixed magnitude with a block of zeros (where exact outputs vanish)."""
    m, n = draw(st.integers(8, 24)), draw(st.integers(8, 24))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    a = np.abs(rng.standard_normal((m, n))) * 2.0 ** rng.integers(-6, 12, size=(m, n))
    r0, c0 = draw(st.integers(0, m // 2)), draw(st.integers(0, n // 2))
    a[r0:r0 + m // 2, c0:c0 + n // 2] = 0
    k = np.abs(rng.standard_normal((kh, kw))) + 0.5
    return Case(SignalProblem(a=(m, n), k=(kh, kw), mode="full", regime="flt"), {"a": a, "k": k}, None)


def _fft_and_exact(be, case):
    y = be.op("scipy.signal.fftconvolve")(case.a, case.k, "full")
    exact, s = ref.convolve(case.a, case.k, "full"), ref.convolve(np.abs(case.a), np.abs(case.k), "full")
    return y, exact, s


@claim(id="fftconvolve-within-normwise-bound", group="scipy", source="Higham, Accuracy and Stability, Thm 24.2",
       needs={"scipy.signal.fftconvolve"}, expected=HOLDS,
       statement="fftconvolve's error is bounded normwise: |err| <= c log2(n) u ||a||_2 ||k||_1 at every element",
       cases=lambda be: fft_cases())
def _(be, case):
    from ..oracle import signal_allowed
    y, exact, _ = _fft_and_exact(be, case)
    _, allowed = signal_allowed(accumulation_for("f64", kind="fast"), case.a, case.k, "full", "convolve2d")
    close(y, exact, allowed, "fftconvolve vs exact (normwise bound)", sides={"a": case.a, "k": case.k})


@claim(id="fftconvolve-error-is-elementwise", group="scipy", source="scipy.signal.fftconvolve docs; Higham ch. 24",
       needs={"scipy.signal.fftconvolve"}, expected=REFUTED,
       statement="fftconvolve is accurate elementwise, within gamma_K sum|a||k| like a direct sum (refuted: small "
                 "outputs next to large ones carry absolute error)",
       cases=lambda be: fft_cases())
def _(be, case):
    y, exact, s = _fft_and_exact(be, case)
    allowed = direct_bound(case.k.size, s, exact, ACCUMULATIONS["f64"], exact=False)
    close(y, exact, allowed, "fftconvolve vs exact (elementwise bound)",
          sides={"a": case.a, "k": case.k, "fftconvolve": y, "exact": exact, "difference": y - exact})


@claim(id="fftconvolve-keeps-sign", group="scipy", source="scipy.signal.fftconvolve docs",
       needs={"scipy.signal.fftconvolve"}, expected=REFUTED,
       statement="fftconvolve of non-negative inputs is non-negative (refuted: rounding noise goes below zero)",
       cases=lambda be: fft_cases())
def _(be, case):
    y = be.op("scipy.signal.fftconvolve")(case.a, case.k, "full")
    neg = np.argwhere(y < 0)
    holds(neg.size == 0, f"fftconvolve of non-negative inputs gave {y[tuple(neg[0])]:.3g} at {neg[0].tolist()}"
          if neg.size else "", sides={"a": case.a, "k": case.k, "fftconvolve": y})


@st.composite
def nan_cases(draw, wide_kernel=True):
    m, n = draw(st.integers(6, 16)), draw(st.integers(6, 16))
    if wide_kernel:
        kh, kw = draw(st.integers(2, 3)), draw(st.integers(2, 3))
    else:
        kh, kw = draw(st.sampled_from([(1, 1), (1, 3), (2, 1)]))
    a = np.ones((m, n))
    i, j = draw(st.integers(0, m - 1)), draw(st.integers(0, n - 1))
    a[i, j] = draw(st.sampled_from([np.nan, np.inf]))
    return Case(SignalProblem(a=(m, n), k=(kh, kw), mode="full"), {"a": a, "k": np.ones((kh, kw))})


@claim(id="fft-spreads-nan-direct-does-not", group="scipy", source="scipy/scipy#16032",
       needs={"scipy.signal.convolve"}, expected=CONDITIONAL,
       condition="the kernel is longer than 1 along every axis (scipy skips the transform along length-1 axes)",
       statement="A single NaN/Inf spreads to the whole output with method='fft', but stays within its receptive "
                 "field with method='direct'",
       cases=lambda be: nan_cases(), outside=lambda be: nan_cases(wide_kernel=False))
def _(be, case):
    f = be.op("scipy.signal.convolve")
    a, k = case.a, case.k
    import warnings
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fft = f(a, k, "full", method="fft")
        direct = f(a, k, "full", method="direct")
    holds(bool(np.all(~np.isfinite(fft))), f"method='fft' left {int(np.isfinite(fft).sum())} finite outputs",
          sides={"a": a, "fft": fft})
    bad = ref.convolve((~np.isfinite(a)).astype(float), np.ones_like(k), "full") > 0
    holds(bool(np.all(~np.isfinite(direct[bad])) and np.all(np.isfinite(direct[~bad]))),
          "method='direct' non-finite outputs are not exactly the receptive field of the NaN",
          sides={"a": a, "direct": direct, "receptive field": bad.astype(float)})


@st.composite
def big_int_cases(draw):
    n = draw(st.integers(2, 6))
    vals = st.integers(2 ** 26, 2 ** 29)
    a = np.array(draw(st.lists(vals, min_size=n, max_size=n)), dtype=np.int64)
    k = np.array(draw(st.lists(vals, min_size=2, max_size=3)), dtype=np.int64)
    return Case(SignalProblem(a=a.shape, k=k.shape, mode="full", dtype="i64"), {"a": a, "k": k})


def _py_convolve(a, k):
    out = [0] * (len(a) + len(k) - 1)
    for i, x in enumerate(a.tolist()):
        for j, y in enumerate(k.tolist()):
            out[i + j] += x * y
    return np.array(out, dtype=object)


@claim(id="int64-fft-convolve-is-exact", group="scipy", source="scipy/scipy#5608",
       needs={"scipy.signal.convolve"}, expected=REFUTED,
       statement="signal.convolve(method='fft') is exact on int64 like method='direct' (refuted beyond 2**53)",
       cases=lambda be: big_int_cases())
def _(be, case):
    y = be.op("scipy.signal.convolve")(case.a, case.k, "full", method="fft")
    exact = _py_convolve(case.a, case.k)
    equal(np.asarray(y).astype(object), exact, "convolve(int64, method='fft') vs exact integers",
          sides={"a": case.a, "k": case.k})


@claim(id="int64-direct-convolve-is-exact", group="scipy", source="scipy/scipy#5608",
       needs={"scipy.signal.convolve"}, expected=HOLDS,
       statement="signal.convolve(method='direct') is exact on int64 while the sums fit in 63 bits",
       cases=lambda be: big_int_cases())
def _(be, case):
    y = be.op("scipy.signal.convolve")(case.a, case.k, "full", method="direct")
    holds(np.asarray(y).dtype == np.int64, f"direct int64 convolution returned {np.asarray(y).dtype}")
    equal(np.asarray(y).astype(object), _py_convolve(case.a, case.k), "convolve(int64, method='direct') vs exact")


# -- integers, complex ------------------------------------------------------------------------------

def _wrap8(v):
    return ((np.asarray(v, dtype=object) + 128) % 256 - 128).astype(np.int64)


@claim(id="numpy-int8-convolve-wraps", group="numpy", source="numpy type promotion rules (NEP 50)",
       needs={"np.convolve"}, expected=HOLDS,
       statement="np.convolve on int8 stays int8 and wraps modulo 2**8 (no promotion)",
       cases=lambda be: pairs1d(elements=st.integers(-128, 127).map(float), dtype=np.int8))
def _(be, case):
    y = be.op("np.convolve")(case.a, case.k)
    holds(y.dtype == np.int8, f"np.convolve(int8, int8) returned {y.dtype}")
    equal(y.astype(np.int64), _wrap8(_py_convolve(case.a.astype(np.int64), case.k.astype(np.int64))),
          "np.convolve int8 vs exact mod 2**8", sides={"a": case.a, "v": case.k})


@claim(id="scipy-int8-convolve2d-wraps", group="scipy", source="scipy.signal.convolve2d docs (output dtype)",
       needs={"convolve2d", "scipy.signal.convolve"}, expected=HOLDS,
       statement="signal.convolve2d on int8 stays int8 and wraps modulo 2**8 (no promotion)",
       cases=lambda be: pairs2d(dtype=np.int8, mode="full").map(
           lambda c: Case(c.problem, {"a": (c.a * 31).astype(np.int8), "k": (c.k * 5).astype(np.int8)})))
def _(be, case):
    y = be.op("convolve2d")(case.a, case.k, "full")
    holds(y.dtype == np.int8, f"convolve2d(int8, int8) returned {y.dtype}")
    exact = ref.convolve(case.a.astype(np.int64), case.k.astype(np.int64), "full")
    equal(y.astype(np.int64), _wrap8(exact), "convolve2d int8 vs exact mod 2**8", sides={"a": case.a, "k": case.k})


complex_el = st.builds(complex, st.integers(-3, 3), st.integers(-3, 3))


def _complex_case(seed):
    rng = np.random.default_rng(seed)
    p = Problem(c=2, h=5, w=5, o=3, kh=3, kw=2, dtype="c128")

    def draw(shape):
        return (rng.integers(-3, 4, size=shape) + 1j * rng.integers(-3, 4, size=shape)).astype(np.complex128)
    return Case(p, {"x": draw(p.x_shape), "w": draw(p.w_shape)}, None)


@claim(id="np-correlate-conjugates-complex", group="numpy", source="numpy.correlate docs", needs={"np.correlate"},
       expected=HOLDS,
       statement="np.correlate(a, v) conjugates its second argument for complex input: c[k] = sum_n a[n+k] conj(v[n])",
       cases=lambda be: pairs1d(elements=complex_el, dtype=np.complex128))
def _(be, case):
    y = be.op("np.correlate")(case.a, case.k, "full")
    exp = ref.convolve(case.a, np.conj(case.k[::-1]), "full")
    equal(y, exp, "np.correlate(a, v, 'full') vs sum a conj(v)", sides={"a": case.a, "v": case.k})


@claim(id="cnn-conv-does-not-conjugate", group="torch", source="torch.nn.functional.conv2d docs (complex support)",
       needs={"torch.F"}, expected=HOLDS,
       statement="A CNN conv layer (torch conv2d) on complex input does not conjugate the kernel: y = sum x w",
       cases=lambda be: st.integers(0, 2 ** 32 - 1).map(_complex_case))
def _(be, case):
    F = be.op("torch.F")
    y = F.conv2d(_t(case.x), _t(case.w)).numpy()
    exp = ref.direct(case.x.real, case.w.real) - ref.direct(case.x.imag, case.w.imag) + 1j * (
        ref.direct(case.x.real, case.w.imag) + ref.direct(case.x.imag, case.w.real))
    equal(y, exp, "torch conv2d(complex) vs sum x w (no conjugate)", sides={"x": case.x, "w": case.w})


# -- torch CPU numerics ------------------------------------------------------------------------------

@st.composite
def batch_cases(draw):
    n, c, h = draw(st.integers(2, 5)), draw(st.integers(3, 16)), draw(st.integers(12, 32))
    o = draw(st.integers(4, 32))
    p = Problem(n=n, c=c, h=h, w=h, o=o, kh=3, kw=3, dtype="f32", regime="flt")
    return Case.seeded(p, draw(st.integers(0, 2 ** 32 - 1)))


BATCH_EXAMPLES = (Case.seeded(Problem.parse("n3c3h17w17_o4k3x3_f32_flt"), 0),
                  Case.seeded(Problem.parse("n5c16h32w32_o32k3x3_f32_flt"), 0))


def _batch_slices(be, case):
    y = be.call("conv2d", case)
    for i in range(case.problem.n):
        sub = conv_of(np.ascontiguousarray(case.x[i:i + 1]), case.w, problem=case.problem.with_(n=1))
        yield i, y[i:i + 1], be.call("conv2d", sub), sub


@claim(id="torch-cpu-batch-invariant-bitwise", group="torch", source="pytorch/pytorch#134908",
       needs={"conv2d", "torch.F"}, expected=REFUTED, examples=BATCH_EXAMPLES,
       version_note="observed with torch 2.13.0 CPU (oneDNN); depends on the kernels the build selects",
       statement="float32 torch conv on the CPU is batch-invariant bit for bit: conv(x)[i] == conv(x[i:i+1]) "
                 "(refuted: the batched kernel may block the sums differently)",
       cases=lambda be: batch_cases())
def _(be, case):
    for i, yi, ys, _ in _batch_slices(be, case):
        equal(yi, ys, f"conv(x)[{i}] vs conv(x[{i}:{i + 1}]) bitwise")


@claim(id="torch-cpu-batch-slices-within-bound", group="torch", source="pytorch/pytorch#134908",
       needs={"conv2d", "torch.F"}, expected=HOLDS, examples=BATCH_EXAMPLES,
       statement="conv(x)[i] and conv(x[i:i+1]) may differ, but both stay within the float32 error bound",
       cases=lambda be: batch_cases())
def _(be, case):
    exp, allowed = conv_expect(be, case)
    for i, yi, ys, _ in _batch_slices(be, case):
        close(yi, exp[i:i + 1], allowed[i:i + 1], f"conv(x)[{i}] vs exact")
        close(ys, exp[i:i + 1], allowed[i:i + 1], f"conv(x[{i}:{i + 1}]) vs exact")


@st.composite
def half_cases(draw):
    dt = draw(st.sampled_from(["f16", "bf16"]))
    c, k = draw(st.integers(1, 16)), draw(st.integers(1, 5))
    p = Problem(n=1, c=c, h=draw(st.integers(k, 12)), w=draw(st.integers(k, 12)), o=draw(st.integers(1, 8)), kh=k, kw=k,
                dtype=dt, regime="flt")
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    x = cast(np.abs(rng.standard_normal(p.x_shape)) + 0.1, dt)
    w = cast(np.abs(rng.standard_normal(p.w_shape)) + 0.1, dt)
    return Case(p, {"x": x, "w": w}, None)


@claim(id="torch-cpu-half-accumulates-in-fp32", group="torch", source="PyTorch CPU fp16/bf16 conv (oneDNN)",
       needs={"torch.F"}, expected=HOLDS,
       statement="fp16 and bf16 conv on the CPU accumulate in fp32: the result is within half an ulp of the "
                 "output format plus the fp32 accumulation bound",
       cases=lambda be: half_cases())
def _(be, case):
    y = be.op("torch.conv_half")(case.x, case.w, case.problem.dtype)
    acc = ACCUMULATIONS[case.problem.dtype]
    exp = ref.direct(case.x, case.w)
    close(y, exp, conv_allowed(acc, case), f"torch {case.problem.dtype} conv vs exact (fp32 accumulation model)",
          sides={"x": case.x, "w": case.w})


# -- unfold / fold / transpose -----------------------------------------------------------------------

@claim(id="unfold-rows-are-channel-first", group="torch", source="torch.nn.Unfold docs", needs={"torch.F"},
       expected=HOLDS,
       statement="F.unfold orders its rows channel first: row c*kH*kW + i*kW + j holds x_pad[c, i*d + s*r, j*d + s*q]",
       cases=S.conv(batch=None, g=1, max_class=1, regimes=("int",)))
def _(be, case):
    p = case.problem
    F = be.op("torch.F")
    cols = F.unfold(_t(case.x), (p.kh, p.kw), dilation=(p.dh, p.dw), padding=(p.ph, p.pw),
                    stride=(p.sh, p.sw)).numpy()
    equal(cols, ref.im2col_columns(case.x, p), "F.unfold vs im2col with rows (c, i, j)", sides={"x": case.x})


@st.composite
def fold_cases(draw, tiling):
    k = draw(st.integers(1, 4))
    s = k if tiling else draw(st.integers(1, 4).filter(lambda v: v != k))
    reps = draw(st.integers(1, 4))
    h = (reps - 1) * s + k
    w = (draw(st.integers(1, 4)) - 1) * s + k
    p = Problem(c=draw(st.integers(1, 3)), h=h, w=w, kh=k, kw=k, sh=s, sw=s)
    return Case(p, {"x": draw(hnp.arrays(np.float64, p.x_shape, elements=ints)), "w": np.ones(p.w_shape)})


def _fold_unfold(F, x, p):
    cols = F.unfold(_t(x), (p.kh, p.kw), stride=(p.sh, p.sw))
    return F.fold(cols, (p.h, p.w), (p.kh, p.kw), stride=(p.sh, p.sw)).numpy()


@claim(id="fold-unfold-is-x-times-coverage", group="torch", source="torch.nn.Fold docs", needs={"torch.F"},
       expected=HOLDS,
       statement="fold(unfold(x)) == x * fold(unfold(ones)): each pixel is multiplied by how many patches cover it",
       cases=lambda be: st.one_of(fold_cases(True), fold_cases(False)))
def _(be, case):
    F = be.op("torch.F")
    p = case.problem
    fu = _fold_unfold(F, case.x, p)
    cover = _fold_unfold(F, np.ones_like(case.x), p)
    equal(fu, case.x * cover, "fold(unfold(x)) vs x * coverage", sides={"x": case.x, "fold(unfold(x))": fu,
                                                                       "coverage": cover})


@claim(id="fold-unfold-is-identity", group="torch", source="torch.nn.Fold docs", needs={"torch.F"},
       expected=CONDITIONAL,
       condition="the patches tile the input exactly (stride == kernel; H - k and W - k multiples of the stride)",
       statement="fold(unfold(x)) == x only when every pixel is covered by exactly one patch (stride > kernel "
                 "leaves uncovered pixels at 0, stride < kernel counts overlaps)",
       cases=lambda be: fold_cases(True), outside=lambda be: fold_cases(False))
def _(be, case):
    fu = _fold_unfold(be.op("torch.F"), case.x, case.problem)
    equal(fu, case.x, "fold(unfold(x)) vs x", sides={"x": case.x, "fold(unfold(x))": fu, "difference": fu - case.x})


@claim(id="conv-transpose-is-adjoint", group="torch", source="torch.nn.ConvTranspose2d docs; JAX lax tests",
       needs={"torch.F"}, expected=HOLDS,
       statement="conv_transpose2d is the adjoint of conv2d: <conv2d(x), y> == <x, conv_transpose2d(y)>, which is "
                 "also the gradient of <conv2d(x), y> with respect to x",
       cases=S.conv(bias=False, dtypes=("f64",), regimes=("int",), max_class=2))
def _(be, case):
    F = be.op("torch.F")
    p = case.problem
    rng = np.random.default_rng(0)
    yv = rng.integers(-3, 4, size=p.y_shape).astype(np.float64)
    ho, wo = p.out_hw()
    base_h = (ho - 1) * p.sh - 2 * p.ph + p.dh * (p.kh - 1) + 1
    base_w = (wo - 1) * p.sw - 2 * p.pw + p.dw * (p.kw - 1) + 1
    op = (p.h - base_h, p.w - base_w)
    if max(op) >= max(p.sh, p.dh) or max(op) >= max(p.sw, p.dw) or min(op) < 0:
        return    # torch cannot express this input size with output_padding: the adjoint is then cropped
    xt = _t(case.x).requires_grad_(True)
    out = F.conv2d(xt, _t(case.w), **p.kwargs())
    lhs = float((out.detach().numpy() * yv).sum())
    ct = F.conv_transpose2d(_t(yv), _t(case.w), stride=(p.sh, p.sw), padding=(p.ph, p.pw), output_padding=op,
                            groups=p.g, dilation=(p.dh, p.dw)).numpy()
    rhs = float((case.x * ct).sum())
    equal(np.float64(lhs), np.float64(rhs), "<conv2d(x), y> vs <x, conv_transpose2d(y)>", sides={"x": case.x})
    (out * _t(yv)).sum().backward()
    equal(xt.grad.numpy(), ct, "d<conv2d(x), y>/dx vs conv_transpose2d(y)", sides={"x": case.x, "grad": xt.grad.numpy(),
                                                                                   "conv_transpose2d": ct})


@claim(id="empty-batch-ok-zero-spatial-raises", group="torch", source="torch.nn.functional.conv2d behaviour",
       needs={"torch.F"}, expected=HOLDS,
       statement="A batch of size zero gives an empty output of the right shape, while a zero spatial size raises",
       cases=lambda be: S.conv_problems(be.caps, dtypes=("f64",), regimes=("int",), max_class=1).map(
           lambda p: Case(p, {})))
def _(be, case):
    import torch
    F = be.op("torch.F")
    p = case.problem
    y = F.conv2d(torch.zeros((0, p.c, p.h, p.w), dtype=torch.float64), torch.zeros(p.w_shape, dtype=torch.float64),
                 **p.kwargs())
    holds(tuple(y.shape) == (0, p.o, *p.out_hw()), f"empty batch gave shape {tuple(y.shape)}")
    try:
        F.conv2d(torch.zeros((1, p.c, 0, p.w), dtype=torch.float64), torch.zeros(p.w_shape, dtype=torch.float64),
                 **p.kwargs())
    except RuntimeError:
        return
    if p.ph == 0 or p.ekh > 2 * p.ph:
        raise Mismatch(f"a zero-height input did not raise ({p})")
