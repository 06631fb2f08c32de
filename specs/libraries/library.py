"""Real-world claims about numpy, scipy and torch: what the libraries actually do, with sources.

Each property takes the library function under audit from the backend (``be.op(...)``), so that a
wrong stand-in can be shown to fail it (the twin each declaration names); other libraries that serve as
comparison points are called directly.  Verdicts are for the pinned versions (torch 2.13.0, the numpy
and scipy the environment resolves).  A claim whose verdict depends on a library's internals (the kernel
torch picks on this CPU, how scipy runs its FFT) carries the condition it was measured under
(:func:`convspec.model.machine.measured`, quoted in its ``version_note``) and is not applicable where it is false.
"""

from __future__ import annotations

import warnings

import numpy as np
from convspec.specs.libraries.pitfalls import HALF_FP32_ACC
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage, signal

from convspec.backends._util import torch_tensor
from convspec.claims import CONDITIONAL, HOLDS, REFUTED, claim
from convspec.drawing import strategies as S
from convspec.errors import Mismatch
from convspec.model import machine as M
from convspec.model.case import Case, cast
from convspec.model.problem import Problem, SignalProblem
from convspec.truth import reference as ref
from convspec.truth.check import close, equal, holds
from convspec.truth.oracle import conv_allowed, conv_expect, conv_of, signal_allowed
from convspec.truth.tolerance import ACCUMULATIONS, accumulation_for, direct_bound, exactness

ints = st.integers(-4, 4).map(float)


def _sig_case(a, k, mode="same", dtype="f64", regime="int", extra=()):
    return Case(SignalProblem(a=a.shape, k=k.shape, mode=mode, dtype=dtype, regime=regime, extra=tuple(extra)),
                {"a": a, "k": k})


#: per-axis parities of a kernel whose dimensions are not all odd (odd x even, even x odd, even x even)
NOT_ALL_ODD = (("odd", "even"), ("even", "odd"), ("even", "even"))


@st.composite
def kernel_shape(draw, parity=None, max_k=6):
    """A 2-D kernel shape.  ``parity``: None (any), "odd" or "even" (every dimension), or "not-odd" (at
    least one even dimension: the whole complement of "odd", mixed kernels such as 3x2 included)."""
    if parity == "not-odd":
        ph, pw = draw(st.sampled_from(NOT_ALL_ODD))
    else:
        ph = pw = parity
    return draw(S.kernel_size(ph, max_k)), draw(S.kernel_size(pw, max_k))


@st.composite
def pairs2d(draw, parity=None, max_size=10, max_k=6, mode="same", dtype=np.float64):
    k_shape = draw(kernel_shape(parity, max_k))
    a_shape = (draw(st.integers(max(k_shape[0], 1), max_size)), draw(st.integers(max(k_shape[1], 1), max_size)))
    a = draw(hnp.arrays(np.float64, a_shape, elements=ints)).astype(dtype)
    k = draw(hnp.arrays(np.float64, k_shape, elements=ints)).astype(dtype)
    return _sig_case(a, k, mode)


@st.composite
def pairs1d(draw, max_n=12, dtype=np.float64, elements=ints, parity=None, longer=None):
    """1-D pairs (a, v).  ``longer``: None (any lengths), False (v not longer than a) or True (v longer
    than a); ``parity`` pins the parity of v's length."""
    m = draw(st.integers(2 if longer is False and parity == "even" else 1, max_n))
    if longer is None:
        n = draw(S.kernel_size(parity, 9 if parity else max_n))
    else:
        lo = m + 1 if longer else (2 if parity == "even" else 1)
        if parity is not None and (lo % 2 == 1) != (parity == "odd"):
            lo += 1
        top = max_n + 3 if longer else m           # a longer v may exceed max_n by a little
        step = 1 if parity is None else 2
        n = lo + step * draw(st.integers(0, max(0, (top - lo) // step)))
    base = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    a = draw(hnp.arrays(base, (m,), elements=elements)).astype(dtype)
    v = draw(hnp.arrays(base, (n,), elements=elements)).astype(dtype)
    return _sig_case(a, v, "same")


def _t(a):
    return torch_tensor(a)


# -- torch 'same' padding ------------------------------------------------------------------------

@st.composite
def same_cases(draw, parity=None, dilated=True):
    kh, kw = draw(kernel_shape(parity, 6))
    d = draw(st.integers(1, 3)) if dilated else 1
    h, w = draw(st.integers(d * (kh - 1) + 1, d * (kh - 1) + 9)), draw(st.integers(d * (kw - 1) + 1, d * (kw - 1) + 9))
    p = Problem(spatial=(h, w), kernel=(kh, kw), dilation=(d, d))
    return Case(p, {"x": draw(hnp.arrays(np.float64, p.x_shape, elements=ints)),
                    "w": draw(hnp.arrays(np.float64, p.w_shape, elements=ints))})


@claim(id="torch-same-pads-extra-at-end", twin="torch_same_extra_at_start",
       group="torch", source="pytorch/pytorch#45667", needs={"torch.conv2d_same"},
       expected=HOLDS,
       statement="torch padding='same' pads L = floor(d(k-1)/2) before and R = d(k-1) - L after: the extra "
                 "sample of an even kernel goes at the end",
       cases=lambda be: same_cases())
def _(be, case):
    p = case.problem
    y = be.op("torch.conv2d_same")(case.x, case.w, dilation=p.dilation)
    tot_h, tot_w = (e - 1 for e in p.extent)
    xp = np.pad(case.x, ((0, 0), (0, 0), (tot_h // 2, tot_h - tot_h // 2), (tot_w // 2, tot_w - tot_w // 2)))
    exp = ref.direct(xp, case.w, dilation=p.dilation)
    equal(y, exp, "torch 'same' vs explicit (L, R) padding", sides={"x": case.x, "w": case.w, "torch same": y,
                                                                     "explicit pad": exp})


@claim(id="torch-same-equals-correlate2d-same", twin="torch_same_extra_at_start", group="torch", source="scipy/scipy#1968",
       needs={"torch.conv2d_same"}, expected=HOLDS,
       statement="torch conv2d(padding='same') equals scipy.signal.correlate2d(..., 'same') for every kernel size, "
                 "even ones included",
       cases=lambda be: same_cases(dilated=False))
def _(be, case):
    y = be.op("torch.conv2d_same")(case.x, case.w)[0, 0]
    s = signal.correlate2d(case.x[0, 0], case.w[0, 0], "same")
    equal(y, s, "torch 'same' vs correlate2d 'same'", sides={"a": case.x[0, 0], "k": case.w[0, 0], "torch": y,
                                                             "correlate2d": s})


@claim(id="torch-same-vs-signal-correlate-same", twin="torch_same_extra_at_start", group="torch", source="scipy/scipy#1968",
       needs={"torch.conv2d_same"}, expected=CONDITIONAL, condition="every kernel dimension is odd",
       statement="torch 'same' equals scipy.signal.correlate(..., 'same') only for odd kernels: along every even "
                 "kernel dimension (a 3x2 kernel included) the two are one sample apart",
       cases=lambda be: same_cases("odd", dilated=False),
       outside=lambda be: same_cases("not-odd", dilated=False))
def _(be, case):
    y = be.op("torch.conv2d_same")(case.x, case.w)[0, 0]
    s = signal.correlate(case.x[0, 0], case.w[0, 0], "same")
    equal(y, s, "torch 'same' vs signal.correlate 'same'", sides={"a": case.x[0, 0], "k": case.w[0, 0],
                                                                  "torch": y, "signal.correlate": s})


@claim(id="torch-same-vs-np-correlate-same", twin="torch_conv1d_same_is_np_correlate",
       group="torch", source="scipy/scipy#1968; numpy np.correlate docs",
       needs={"torch.F"}, expected=CONDITIONAL, condition="the kernel length is odd and not longer than the signal",
       statement="1-D: torch conv1d(padding='same') equals np.correlate(a, v, 'same') only for odd kernels no longer "
                 "than the signal (even kernels are centred one sample apart; a longer kernel makes np.correlate "
                 "return the kernel's length)",
       cases=lambda be: pairs1d(parity="odd", longer=False),
       outside=lambda be: st.one_of(pairs1d(parity="even"), pairs1d(parity="odd", longer=True)))
def _(be, case):
    F = be.op("torch.F")
    y = F.conv1d(_t(case.a)[None, None], _t(case.k)[None, None], padding="same")[0, 0].numpy()
    n = np.correlate(case.a, case.k, "same")
    equal(y, n, "torch conv1d 'same' vs np.correlate 'same'", sides={"a": case.a, "v": case.k, "torch": y,
                                                                      "np.correlate": n})


# -- scipy.ndimage vs scipy.signal ---------------------------------------------------------------

@claim(id="ndimage-constant-equals-convolve2d-same", twin="ndimage_as_convolve2d",
       group="scipy", source="scipy/scipy#23978; scipy/scipy#4580",
       needs={"scipy.ndimage.convolve", "convolve2d"}, expected=CONDITIONAL, condition="every kernel dimension is odd",
       statement="ndimage.convolve(a, k, mode='constant') equals signal.convolve2d(a, k, 'same') only for odd "
                 "kernel sizes (ndimage centres even kernels the other way)",
       cases=lambda be: pairs2d("odd"), outside=lambda be: pairs2d("not-odd"))
def _(be, case):
    nd = be.op("scipy.ndimage.convolve")(case.a, case.k, mode="constant", cval=0.0)
    cv = be.op("convolve2d")(case.a, case.k, "same")
    equal(nd, cv, "ndimage.convolve(constant) vs convolve2d(same)",
          sides={"a": case.a, "k": case.k, "ndimage": nd, "convolve2d": cv, "difference": nd - cv})


@claim(id="ndimage-default-equals-convolve2d-same", twin="ndimage_default_constant",
       group="scipy", source="scipy.ndimage.convolve docs (mode='reflect')",
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

@st.composite
def commute_pairs(draw, max_n=12):
    """1-D pairs of small integers (the exact regime) or of full-precision floats (normal(0, 1) * 2**U{-8..8}
    from a drawn seed: 53-bit significands, so the sums round); half of them of equal length, the only
    lengths where the two argument orders of np.convolve sum differently (it swaps a shorter first argument
    with the second)."""
    regime = draw(st.sampled_from(["int", "flt"]))
    m = draw(st.integers(1, max_n))
    n = m if draw(st.booleans()) else draw(st.integers(1, max_n))
    if regime == "int":
        a, v = draw(S._array((m,), "f64", "int")), draw(S._array((n,), "f64", "int"))
    else:
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        a, v = (rng.standard_normal(q) * 2.0 ** rng.integers(-8, 9, size=q) for q in (m, n))
    return _sig_case(a, v, "same", regime=regime)


def np_same_exact(a, v):
    """np.convolve(a, v, 'same') by the definition: the full convolution (float64) cropped to
    max(M, N) from (min(M, N) - 1) // 2, with sum |a||v| at each output."""
    full = ref.convolve_full(a.astype(np.float64), v.astype(np.float64))
    s = ref.convolve_full(np.abs(a.astype(np.float64)), np.abs(v.astype(np.float64)))
    start, n = (min(a.size, v.size) - 1) // 2, max(a.size, v.size)
    return full[start:start + n], s[start:start + n]


@claim(id="np-convolve-same-is-max-length-and-commutes", twin="np_convolve_is_scipy", group="numpy", source="numpy/numpy#6316",
       needs={"np.convolve"}, expected=HOLDS,
       statement="np.convolve(a, v, 'same') has length max(M, N) and commutes: np.convolve(a, v, 'same') == "
                 "np.convolve(v, a, 'same') bit for bit where every sum is exact (small integers); on other "
                 "floats both orders lie within the float64 rounding bound of the same exact result, and may "
                 "differ in the last bits (the two orders sum differently)",
       cases=lambda be: commute_pairs())
def _(be, case):
    f = be.op("np.convolve")
    a, v = case.a, case.k
    av, va = f(a, v, "same"), f(v, a, "same")
    sides = {"a": a, "v": v, "np.convolve(a,v)": av, "np.convolve(v,a)": va}
    for name, y in (("np.convolve(a, v, 'same')", av), ("np.convolve(v, a, 'same')", va)):
        holds(np.shape(y) == (max(a.size, v.size),), f"{name} has shape {np.shape(y)}, expected "
              f"({max(a.size, v.size)},)", sides=sides)
    exact, s = np_same_exact(a, v)
    acc = ACCUMULATIONS["f64"]
    if exactness([a, v], float(s.max()), acc):
        equal(av, va, "np.convolve(a, v, 'same') vs np.convolve(v, a, 'same') (every product and sum exact: bit "
              "for bit)", sides=sides)
        return
    allowed = direct_bound(min(a.size, v.size), s, exact, acc, False)
    close(av, exact, allowed, "np.convolve(a, v, 'same') vs the exact convolution (float64 bound)", sides=sides)
    close(va, exact, allowed, "np.convolve(v, a, 'same') vs the exact convolution (float64 bound)", sides=sides)


@claim(id="scipy-convolve-same-has-first-length", twin="scipy_convolve_is_np",
       group="scipy", source="numpy/numpy#6316; scipy.signal.convolve docs",
       needs={"scipy.signal.convolve"}, expected=HOLDS,
       statement="scipy.signal.convolve(a, v, 'same') has the length of its first argument, whichever is longer",
       cases=lambda be: pairs1d())
def _(be, case):
    y = be.op("scipy.signal.convolve")(case.a, case.k, "same")
    holds(y.shape == case.a.shape, f"signal.convolve(a, v, 'same') has shape {y.shape}, expected {case.a.shape}",
          sides={"a": case.a, "v": case.k, "result": y})


@claim(id="scipy-convolve-same-commutes", twin="scipy_convolve_is_np",
       group="scipy", source="numpy/numpy#6316", needs={"scipy.signal.convolve"},
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


@claim(id="padding-mode-names-map", twin="np_pad_swapped",
       group="numpy", source="numpy.pad, torch.nn.functional.pad, scipy.ndimage docs",
       needs={"np.pad"}, expected=HOLDS,
       statement="Padding names map across libraries: torch reflect = numpy reflect = ndimage mirror; numpy "
                 "symmetric = ndimage reflect = convolve2d symm; replicate = edge = nearest; circular = wrap",
       cases=lambda be: pad_cases())
def _(be, case):
    import torch.nn.functional as F  # lazy: torch is an optional extra (about 3 s to import); only torch backends reach this
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


@claim(id="torch-reflect-pad-needs-pad-below-size", twin="torch_pad_never_raises",
       group="torch", source="pytorch/pytorch#18413", needs={"torch.F"},
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


@claim(id="fftconvolve-within-normwise-bound", twin="fftconvolve_in_float32",
       group="scipy", source="Higham, Accuracy and Stability, Thm 24.2",
       needs={"scipy.signal.fftconvolve"}, expected=HOLDS,
       statement="fftconvolve's error is bounded normwise: |err| <= c log2(n) u ||a||_2 ||k||_1 at every element",
       cases=lambda be: fft_cases())
def _(be, case):
    y, exact, _ = _fft_and_exact(be, case)
    _, allowed = signal_allowed(accumulation_for("f64", kind="fast"), case.a, case.k, "full", "convolve2d")
    close(y, exact, allowed, "fftconvolve vs exact (normwise bound)", sides={"a": case.a, "k": case.k})


@claim(id="fftconvolve-error-is-elementwise", twin="fftconvolve_is_direct",
       group="scipy", source="scipy.signal.fftconvolve docs; Higham ch. 24",
       needs={"scipy.signal.fftconvolve"}, expected=REFUTED,
       statement="fftconvolve is accurate elementwise, within gamma_K sum|a||k| like a direct sum (refuted: small "
                 "outputs next to large ones carry absolute error)",
       cases=lambda be: fft_cases())
def _(be, case):
    y, exact, s = _fft_and_exact(be, case)
    allowed = direct_bound(case.k.size, s, exact, ACCUMULATIONS["f64"], exact=False)
    close(y, exact, allowed, "fftconvolve vs exact (elementwise bound)",
          sides={"a": case.a, "k": case.k, "fftconvolve": y, "exact": exact, "difference": y - exact})


@claim(id="fftconvolve-keeps-sign", twin="fftconvolve_is_direct", group="scipy", source="scipy.signal.fftconvolve docs",
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


#: which axes scipy transforms, and how its FFT rounds, are internals of scipy's fftconvolve (pocketfft)
FFT_COND = M.Condition("measured with scipy 1.17 (fftconvolve on pocketfft; no transform along axes where an input "
                       "has length 1)", (M.version_series("scipy", "1.17"),), library="scipy")


@M.measured(FFT_COND)
@claim(id="fft-spreads-nan-direct-does-not", twin="convolve_direct_only", group="scipy", source="scipy/scipy#16032",
       needs={"scipy.signal.convolve"}, expected=CONDITIONAL, version_note=FFT_COND.text,
       condition="the kernel is longer than 1 along every axis (scipy skips the transform along length-1 axes)",
       statement="A single NaN/Inf spreads to the whole output with method='fft', but stays within its receptive "
                 "field with method='direct'",
       cases=lambda be: nan_cases(), outside=lambda be: nan_cases(wide_kernel=False))
def _(be, case):
    f = be.op("scipy.signal.convolve")
    a, k = case.a, case.k
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
def big_int_cases(draw, lo=2 ** 26, hi=2 ** 29):
    """int64 pairs with entries in [lo, hi] (a: 2..6 long, k: 2..3 long)."""
    n = draw(st.integers(2, 6))
    vals = st.integers(lo, hi)
    a = np.array(draw(st.lists(vals, min_size=n, max_size=n)), dtype=np.int64)
    k = np.array(draw(st.lists(vals, min_size=2, max_size=3)), dtype=np.int64)
    return Case(SignalProblem(a=a.shape, k=k.shape, mode="full", dtype="i64"), {"a": a, "k": k})


#: int64 entries for the FFT claim, in [2**25, 2**25.5): every product < 2**51 and every output (3 terms at
#: most) < 2**52.6, so float64 holds every product and partial sum exactly -- an inexact result is the FFT's
#: own rounding, not float64's range (about half of these pairs come back inexact)
FFT_INT_RANGE = (2 ** 25, 47453132)
#: a measured counterexample (scipy 1.17): every output below 2**50.2, one of them off by one; drawn first
#: (hypothesis tries the simplest choice first), as an @example would be if int64 were a declared dtype
FFT_INT_EXAMPLE = Case(SignalProblem(a=(4,), k=(3,), mode="full", dtype="i64"), {
    "a": np.array([16985688, 20743636, 22471081, 17844164], dtype=np.int64),
    "k": np.array([22779855, 20891813, 19548231], dtype=np.int64)})


def _py_convolve(a, k):
    out = [0] * (len(a) + len(k) - 1)
    for i, x in enumerate(a.tolist()):
        for j, y in enumerate(k.tolist()):
            out[i + j] += x * y
    return np.array(out, dtype=object)


@M.measured(FFT_COND)
@claim(id="int64-fft-convolve-is-exact", twin="convolve_direct_only", group="scipy", source="scipy/scipy#5608",
       needs={"scipy.signal.convolve"}, expected=REFUTED,
       statement="signal.convolve(method='fft') is exact on int64 like method='direct' while the outputs fit "
                 "float64's 53-bit significand (refuted: it rounds a float64 FFT, and outputs from about 2**50 "
                 "-- well below 2**53 -- come back off by one)",
       version_note=f"{FFT_COND.text}; over about 400000 random pairs: the smallest inexact "
                    "outputs were 2**50.2 (a up to 6 long, k up to 3) and 2**49.7 (16 and 8 long); about half the "
                    "pairs with entries in [2**25, 2**25.5) are inexact",
       cases=lambda be: st.one_of(st.just(FFT_INT_EXAMPLE), big_int_cases(*FFT_INT_RANGE)))
def _(be, case):
    exact = _py_convolve(case.a, case.k)
    top = max(abs(int(v)) for v in exact)
    holds(top < 2 ** 53, f"the case has an output of 2**{np.log2(float(top)):.2f}: beyond float64, not about "
          "the FFT", sides={"a": case.a, "k": case.k})
    y = be.op("scipy.signal.convolve")(case.a, case.k, "full", method="fft")
    equal(np.asarray(y).astype(object), exact, f"convolve(int64, method='fft') vs exact integers (largest output "
          f"2**{np.log2(float(top)):.2f} < 2**53)", sides={"a": case.a, "k": case.k})


@claim(id="int64-direct-convolve-is-exact", twin="int64_convolve_via_float", group="scipy", source="scipy/scipy#5608",
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


@claim(id="numpy-int8-convolve-wraps", twin="np_convolve_promotes", group="numpy", source="numpy type promotion rules (NEP 50)",
       needs={"np.convolve"}, expected=HOLDS,
       statement="np.convolve on int8 stays int8 and wraps modulo 2**8 (no promotion)",
       cases=lambda be: pairs1d(elements=st.integers(-128, 127).map(float), dtype=np.int8))
def _(be, case):
    y = be.op("np.convolve")(case.a, case.k)
    holds(y.dtype == np.int8, f"np.convolve(int8, int8) returned {y.dtype}")
    equal(y.astype(np.int64), _wrap8(_py_convolve(case.a.astype(np.int64), case.k.astype(np.int64))),
          "np.convolve int8 vs exact mod 2**8", sides={"a": case.a, "v": case.k})


@claim(id="scipy-int8-convolve2d-wraps", twin="convolve2d_saturates",
       group="scipy", source="scipy.signal.convolve2d docs (output dtype)",
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
    p = Problem(c=2, spatial=(5, 5), o=3, kernel=(3, 2), dtype="c128")

    def draw(shape):
        return (rng.integers(-3, 4, size=shape) + 1j * rng.integers(-3, 4, size=shape)).astype(np.complex128)
    return Case(p, {"x": draw(p.x_shape), "w": draw(p.w_shape)}, None)


@claim(id="np-correlate-conjugates-complex", twin="np_correlate_no_conj",
       group="numpy", source="numpy.correlate docs", needs={"np.correlate"},
       expected=HOLDS,
       statement="np.correlate(a, v) conjugates its second argument for complex input: c[k] = sum_n a[n+k] conj(v[n])",
       cases=lambda be: pairs1d(elements=complex_el, dtype=np.complex128))
def _(be, case):
    y = be.op("np.correlate")(case.a, case.k, "full")
    exp = ref.convolve(case.a, np.conj(case.k[::-1]), "full")
    equal(y, exp, "np.correlate(a, v, 'full') vs sum a conj(v)", sides={"a": case.a, "v": case.k})


@claim(id="cnn-conv-does-not-conjugate", twin="torch_conv2d_conjugates",
       group="torch", source="torch.nn.functional.conv2d docs (complex support)",
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
    p = Problem(n=n, c=c, spatial=(h, h), o=o, kernel=(3, 3), dtype="f32", regime="flt")
    return Case.seeded(p, draw(st.integers(0, 2 ** 32 - 1)))


BATCH_EXAMPLES = (Case.seeded(Problem.parse("n3c3h17w17_o4k3x3_f32_flt"), 0),
                  Case.seeded(Problem.parse("n5c16h32w32_o32k3x3_f32_flt"), 0))


def _batch_slices(be, case):
    y = be.call("conv2d", case)
    for i in range(case.problem.n):
        sub = conv_of(np.ascontiguousarray(case.x[i:i + 1]), case.w, problem=case.problem.with_(n=1))
        yield i, y[i:i + 1], be.call("conv2d", sub), sub


#: batch invariance depends on how the kernel torch picks blocks its sums: oneDNN's for batched float32
BATCH_COND = M.Condition("measured on x86-64 (an AVX2 CPU; an AVX-512 BF16 CPU in issue 18) with torch 2.13 running "
                         "batched float32 convs on oneDNN", (M.x86_64, M.version_series("torch", "2.13"),
                                                             M.torch_kernels({"f32 conv": {"onednn"}})),
                         library="torch")


@M.measured(BATCH_COND)
@claim(id="torch-cpu-batch-invariant-bitwise", twin="torch_conv_per_sample", group="torch", source="pytorch/pytorch#134908",
       needs={"conv2d", "torch.F"}, expected=REFUTED, examples=BATCH_EXAMPLES,
       version_note=f"{BATCH_COND.text}; depends on the kernels the build selects",
       statement="float32 torch conv on the CPU is batch-invariant bit for bit: conv(x)[i] == conv(x[i:i+1]) "
                 "(refuted: the batched kernel may block the sums differently)",
       cases=lambda be: batch_cases())
def _(be, case):
    for i, yi, ys, _ in _batch_slices(be, case):
        equal(yi, ys, f"conv(x)[{i}] vs conv(x[{i}:{i + 1}]) bitwise")


@claim(id="torch-cpu-batch-slices-within-bound", twin="torch_conv_batch_drift", group="torch", source="pytorch/pytorch#134908",
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
    h, w = draw(st.integers(k, 12)), draw(st.integers(k, 12))
    p = Problem(n=1, c=c, spatial=(h, w), o=draw(st.integers(1, 8)), kernel=(k, k), dtype=dt, regime="flt")
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    x = cast(np.abs(rng.standard_normal(p.x_shape)) + 0.1, dt)
    w = cast(np.abs(rng.standard_normal(p.w_shape)) + 0.1, dt)
    return Case(p, {"x": x, "w": w}, None)


@M.measured(HALF_FP32_ACC)
@claim(id="torch-cpu-half-accumulates-in-fp32", twin="torch_half_acc16",
       group="torch", source="PyTorch CPU fp16/bf16 conv (oneDNN)",
       needs={"torch.F"}, expected=HOLDS, version_note=HALF_FP32_ACC.text,
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

@claim(id="unfold-rows-are-channel-first", twin="torch_unfold_ijc",
       group="torch", source="torch.nn.Unfold docs", needs={"torch.F"},
       expected=HOLDS,
       statement="F.unfold orders its rows channel first: row c*kH*kW + i*kW + j holds x_pad[c, i*d + s*r, j*d + s*q]",
       cases=S.conv(batch=None, g=1, max_class=1, regimes=("int",)))
def _(be, case):
    p = case.problem
    F = be.op("torch.F")
    cols = F.unfold(_t(case.x), p.kernel, dilation=p.dilation, padding=p.padding_arg(),
                    stride=p.stride).float().numpy()
    equal(cols, ref.im2col_columns(case.x, p), "F.unfold vs im2col with rows (c, i, j)", sides={"x": case.x})


def coverage_1d(n: int, k: int, s: int):
    """How many patches cover each of n pixels: patches of length k at 0, s, 2s, ... while they fit
    (no padding, dilation 1 -- what F.unfold extracts and F.fold adds back)."""
    cov = np.zeros(n, dtype=int)
    for start in range(0, n - k + 1, s):
        cov[start:start + k] += 1
    return cov


def covered_once(p: Problem) -> bool:
    """Every pixel lies in exactly one patch.  The coverage of pixel (i, j) is the product of the two
    axes' coverages, so this holds iff it holds on each axis: one patch spanning the axis (any
    stride), or stride == kernel with the extent a multiple of it."""
    return all(bool(np.all(coverage_1d(n, k, s) == 1)) for n, k, s in zip(p.spatial, p.kernel, p.stride))


#: how one axis (extent n, kernel k, stride s) is covered: exactly once ...
ONCE = ("tile", "single")
#: ... or not: overlapping patches, gaps between patches, or trailing pixels no patch reaches
NOT_ONCE = ("overlap", "gap", "remainder")


@st.composite
def fold_axis(draw, kind):
    """(n, k, s) for one axis, covered as ``kind`` says (see ONCE, NOT_ONCE)."""
    if kind == "tile":                       # stride == kernel, extent a multiple of it
        k = draw(st.integers(1, 4))
        return draw(st.integers(1, 4)) * k, k, k
    if kind == "single":                     # one patch spans the axis, whatever the stride (k=3, n=3, s=2 or 5)
        k = draw(st.integers(1, 4))
        return k, k, draw(st.integers(1, 6))
    if kind == "overlap":                    # stride < kernel, two patches or more: pixels counted twice
        k = draw(st.integers(2, 4))
        s = draw(st.integers(1, k - 1))
        return (draw(st.integers(2, 4)) - 1) * s + k + draw(st.integers(0, s - 1)), k, s
    if kind == "gap":                        # stride > kernel, two patches or more: pixels between them lost
        k = draw(st.integers(1, 3))
        s = draw(st.integers(k + 1, 5))
        return (draw(st.integers(2, 4)) - 1) * s + k + draw(st.integers(0, s - 1)), k, s
    k = draw(st.integers(1, 4))              # "remainder": 1..s-1 trailing pixels that no patch reaches
    s = draw(st.integers(2, 5))
    return (draw(st.integers(1, 4)) - 1) * s + k + draw(st.integers(1, s - 1)), k, s


@st.composite
def fold_cases(draw, once):
    """fold/unfold cases whose pixels are all covered exactly once (``once``), or not (some pixel
    uncovered or covered more than once, on one axis or both)."""
    if once:
        kinds = (draw(st.sampled_from(ONCE)), draw(st.sampled_from(ONCE)))
    else:
        bad = draw(st.sampled_from(("h", "w", "both")))
        kinds = tuple(draw(st.sampled_from(NOT_ONCE if bad in (ax, "both") else ONCE)) for ax in ("h", "w"))
    (h, kh, sh), (w, kw, sw) = draw(fold_axis(kinds[0])), draw(fold_axis(kinds[1]))
    p = Problem(c=draw(st.integers(1, 3)), spatial=(h, w), kernel=(kh, kw), stride=(sh, sw))
    return Case(p, {"x": draw(hnp.arrays(np.float64, p.x_shape, elements=ints)), "w": np.ones(p.w_shape)})


def _fold_example(stride):
    p = Problem(spatial=(3, 3), kernel=(3, 3), stride=(stride, stride))
    return Case(p, {"x": np.arange(1.0, 10.0).reshape(p.x_shape), "w": np.ones(p.w_shape)})


#: one 3x3 patch on a 3x3 input with stride 2 or 5: covered once although stride != kernel
FOLD_ONCE_EXAMPLES = (_fold_example(2), _fold_example(5))


def _fold_unfold(F, x, p):
    cols = F.unfold(_t(x), p.kernel, stride=p.stride)
    return F.fold(cols, p.spatial, p.kernel, stride=p.stride).numpy()


@claim(id="fold-unfold-is-x-times-coverage", twin="torch_unfold_ijc",
       group="torch", source="torch.nn.Fold docs", needs={"torch.F"},
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


@claim(id="fold-unfold-is-identity", twin="torch_fold_doubled", group="torch", source="torch.nn.Fold docs", needs={"torch.F"},
       expected=CONDITIONAL,
       condition="every input pixel is covered by exactly one patch (per axis: one patch spans it, whatever the "
                 "stride, or stride == kernel with the extent a multiple of it)",
       statement="fold(unfold(x)) == x only when every pixel is covered by exactly one patch (a gap or a "
                 "remainder leaves uncovered pixels at 0, overlapping patches count a pixel twice)",
       cases=lambda be: fold_cases(True), outside=lambda be: fold_cases(False), examples=FOLD_ONCE_EXAMPLES)
def _(be, case):
    fu = _fold_unfold(be.op("torch.F"), case.x, case.problem)
    equal(fu, case.x, "fold(unfold(x)) vs x", sides={"x": case.x, "fold(unfold(x))": fu, "difference": fu - case.x})


def transpose_cases(caps):
    """General conv cases, and as often cases with stride 3 on one axis and stride and dilation 1 on the
    other: there the output_padding of the strided axis (0, 1 or 2) reaches the other axis' stride, the
    class a skip test mixing up the axes used to drop."""
    common = dict(bias=False, dtypes=("f64",), regimes=("int",), max_class=2)
    return st.one_of(S.conv_cases(caps, **common), S.conv_cases(caps, sh=3, sw=1, dw=1, **common),
                     S.conv_cases(caps, sh=1, dh=1, sw=3, **common))


@claim(id="conv-transpose-is-adjoint", twin="torch_conv_transpose_flipped",
       group="torch", source="torch.nn.ConvTranspose2d docs; JAX lax tests",
       needs={"torch.F"}, expected=HOLDS,
       statement="conv_transpose2d is the adjoint of conv2d: <conv2d(x), y> == <x, conv_transpose2d(y)>, which is "
                 "also the gradient of <conv2d(x), y> with respect to x",
       cases=lambda be: transpose_cases(be.caps))
def _(be, case):
    F = be.op("torch.F")
    p = case.problem
    rng = np.random.default_rng(0)
    yv = rng.integers(-3, 4, size=p.y_shape).astype(np.float64)
    # per axis, output_padding = (H + 2pH - dH(kH-1) - 1) mod sH: always in [0, sH), which torch accepts
    # (it must be below the stride or the dilation of its own axis), so every drawn case is tested
    op = tuple(L - ((o - 1) * s - 2 * lo + e) for L, o, s, (lo, _), e in zip(p.spatial, p.out_spatial(), p.stride,
                                                                           p.pads, p.extent))
    xt = _t(case.x).requires_grad_(True)
    out = F.conv2d(xt, _t(case.w), **p.kwargs())
    lhs = float((out.detach().numpy() * yv).sum())
    ct = F.conv_transpose2d(_t(yv), _t(case.w), stride=p.stride, padding=p.padding_arg(), output_padding=op,
                            groups=p.g, dilation=p.dilation).numpy()
    holds(ct.shape == case.x.shape, f"conv_transpose2d(y, output_padding={op}) has shape {ct.shape}, x has "
          f"{case.x.shape}", sides={"x": case.x})
    rhs = float((case.x * ct).sum())
    equal(np.float64(lhs), np.float64(rhs), "<conv2d(x), y> vs <x, conv_transpose2d(y)>", sides={"x": case.x})
    (out * _t(yv)).sum().backward()
    equal(xt.grad.numpy(), ct, "d<conv2d(x), y>/dx vs conv_transpose2d(y)", sides={"x": case.x, "grad": xt.grad.numpy(),
                                                                                   "conv_transpose2d": ct})


#: padding alone covers the 1x1 kernel: torch still raises for a zero height or width
EMPTY_EXAMPLES = (Case(Problem(spatial=(3, 3), kernel=(1, 1), pads=(1, 1)), {}),
                  Case(Problem(spatial=(2, 4), kernel=(3, 2), pads=(2, 1), stride=(2, 1)), {}))


@claim(id="empty-batch-ok-zero-spatial-raises", twin="torch_zero_spatial_ok",
       group="torch", source="torch.nn.functional.conv2d behaviour",
       needs={"torch.F"}, expected=HOLDS, examples=EMPTY_EXAMPLES,
       version_note="torch 2.13.0 raises 'Only zero batch or zero channel inputs are supported' for a zero "
                    "height or width, whatever the padding",
       statement="A batch of size zero gives an empty output of the right shape, while a zero height or width "
                 "raises -- even when the padding alone would cover the kernel",
       cases=lambda be: S.conv_problems(be.caps, dtypes=("f64",), regimes=("int",), max_class=1).map(
           lambda p: Case(p, {})))
def _(be, case):
    import torch  # lazy: torch is an optional extra (about 3 s to import); only torch backends reach this
    F = be.op("torch.F")
    p = case.problem
    w = torch.zeros(p.w_shape, dtype=torch.float64)
    (h, w_), ((ph, _), (pw, _)), (ekh, ekw) = p.spatial, p.pads, p.extent
    y = F.conv2d(torch.zeros((0, p.c, h, w_), dtype=torch.float64), w, **p.kwargs())
    holds(tuple(y.shape) == (0, p.o, *p.out_spatial()), f"empty batch gave shape {tuple(y.shape)}, expected "
          f"{(0, p.o, *p.out_spatial())}")
    for axis, shape in (("height", (1, p.c, 0, w_)), ("width", (1, p.c, h, 0))):
        try:
            out = F.conv2d(torch.zeros(shape, dtype=torch.float64), w, **p.kwargs())
        except RuntimeError:
            continue
        raise Mismatch(f"a zero-{axis} input {shape} did not raise ({p}; padding {ph}x{pw}, dilated kernel "
                       f"{ekh}x{ekw}); it returned shape {tuple(out.shape)}")
