"""Audited pitfalls of the conv family (issue 10, section 5): what scipy and torch actually do where users
trip, each with a source and the verdict measured on the installed libraries.

As in :mod:`convspec.specs.libraries.library`, each property takes the function under audit from the backend
(``be.op(...)``), so that a wrong stand-in can be shown to fail it (tests/twins/test_pitfalls.py); the
references are the definitions in :mod:`convspec.truth.reference`, and other library paths that serve as
comparison points (``torch.nn.Conv2d``) are called directly.  Data are small integers (or quarter
integers), so every expected value is exact and every comparison is bit for bit.  Verdicts are for torch
2.13.0 (CPU) and scipy 1.17.  A claim whose verdict depends on the library's internals -- the kernel torch
picks on this CPU, scipy's cost model -- carries the condition it was measured under
(:func:`convspec.model.machine.measured`; its ``version_note`` quotes it): where that condition is false the claim is
not applicable, with the reason, rather than given a verdict measured elsewhere.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import signal

from convspec.backends._util import torch_tensor
from convspec.claims import CONDITIONAL, HOLDS, REFUTED, claim
from convspec.model import machine as M
from convspec.model.case import Case, cast
from convspec.model.problem import Problem, SignalProblem, TransposeProblem, np_dtype
from convspec.truth import reference as ref
from convspec.truth.check import equal, holds


def _t(a):
    return torch_tensor(a)


def _ints(shape, lo, hi):
    return hnp.arrays(np.float64, shape, elements=st.integers(lo, hi).map(float))


# -- 1. scipy.ndimage keeps the input dtype --------------------------------------------------------

ND_INPUTS = ("i16", "i32", "i64")


@st.composite
def ndimage_int_cases(draw):
    """A 2-D integer array (values in [-9, 9], held as float64; its integer dtype in ``extra``) and an odd
    kernel of quarter integers in [-2, 2]: the float64 result is exact, so its truncation is unambiguous."""
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kh, kw = draw(st.sampled_from((1, 3, 5))), draw(st.sampled_from((1, 3, 5)))
    a = draw(_ints((h, w), -9, 9))
    k = draw(hnp.arrays(np.float64, (kh, kw), elements=st.integers(-8, 8).map(lambda v: v / 4)))
    p = SignalProblem(a=(h, w), k=(kh, kw), mode="same", regime="dya", extra=(f"input={draw(st.sampled_from(ND_INPUTS))}",))
    return Case(p, {"a": a, "k": k})


def _int_input(case):
    """The case's signal in its integer dtype (``extra`` holds ``input=<i16|i32|i64>``)."""
    return case.a.astype(np_dtype(case.problem.extra[0].split("=", 1)[1]))


ND_SRC = "scipy/scipy#10527; scipy.ndimage.convolve docs (output: 'By default an array of the same dtype as input')"


@claim(id="ndimage-int-input-truncates-toward-zero", twin="ndimage_rounds", group="scipy", source=ND_SRC,
       needs={"scipy.ndimage.convolve", "scipy.ndimage.correlate"}, expected=HOLDS,
       statement="ndimage.convolve/correlate of an integer array with a float kernel return the input's integer "
                 "dtype, holding the exact result truncated toward zero (2.75 -> 2, -1.5 -> -1: not rounded, not "
                 "floored, not promoted); output=np.float64 gives the exact result",
       cases=lambda be: ndimage_int_cases())
def _(be, case):
    a, k = _int_input(case), case.k
    for name, definition in (("convolve", ref.convolve), ("correlate", ref.correlate)):
        f = be.op(f"scipy.ndimage.{name}")
        exact = definition(case.a, k, "same")           # odd kernels: mode='constant' is the 'same' crop
        y = np.asarray(f(a, k, mode="constant", cval=0.0))
        sides = {"a": a, "k": k, f"ndimage.{name}": y, "exact": exact}
        holds(y.dtype == a.dtype, f"ndimage.{name}({a.dtype} input, float64 kernel) returned {y.dtype}, "
              f"expected the input dtype {a.dtype}", sides=sides)
        equal(y.astype(np.float64), np.trunc(exact), f"ndimage.{name}({a.dtype} input) vs trunc(exact result)",
              sides=sides)
        yf = f(a, k, output=np.float64, mode="constant", cval=0.0)
        equal(yf, exact, f"ndimage.{name}({a.dtype} input, output=np.float64) vs the exact result", sides=sides)


@claim(id="ndimage-int-input-keeps-fractions", twin="ndimage_promotes",
       group="scipy", source=ND_SRC, needs={"scipy.ndimage.convolve"},
       expected=REFUTED,
       statement="ndimage.convolve(integer array, float kernel) returns the float result, as signal.convolve2d "
                 "does (refuted: it returns the input's dtype, so a fraction is cut off: [[1]] * [[0.5]] gives [[0]])",
       cases=lambda be: ndimage_int_cases())
def _(be, case):
    a, k = _int_input(case), case.k
    y = np.asarray(be.op("scipy.ndimage.convolve")(a, k, mode="constant", cval=0.0))
    exact = ref.convolve(case.a, k, "same")
    equal(y.astype(np.float64), exact, f"ndimage.convolve({a.dtype} input, float64 kernel) vs the exact float result",
          sides={"a": a, "k": k, "ndimage": y, "exact": exact})


# -- 2. scipy.signal.convolve(method='auto') and integers -------------------------------------------

#: choose_conv_method's integer guard: 'direct' when max|a| max|k| min(a.size, k.size) exceeds this
INT_GUARD = 2 ** 52 - 1


def fft_favoured(a_shape, k_shape, mode="full") -> bool:
    """Whether choose_conv_method estimates the FFT faster for these shapes (float data: no guard)."""
    return signal.choose_conv_method(np.zeros(a_shape), np.zeros(k_shape), mode=mode) == "fft"


@st.composite
def fft_shapes(draw):
    """2-D shapes (7..10 by 6..8) on which method='auto' takes the FFT for float data (scipy 1.17's cost model
    picks it for about 90% of them; the rest are filtered out)."""
    a = (draw(st.integers(7, 10)), draw(st.integers(7, 10)))
    k = (draw(st.integers(6, 8)), draw(st.integers(6, 8)))
    return a, k


def _guard_bound(a, k) -> int:
    return int(np.abs(a).max()) * int(np.abs(k).max()) * min(a.size, k.size)


@st.composite
def auto_float_cases(draw):
    """float64 arrays of integers in [-4, 4] on FFT-favoured shapes."""
    a_shape, k_shape = draw(fft_shapes().filter(lambda s: fft_favoured(*s)))
    a, k = draw(_ints(a_shape, -4, 4)), draw(_ints(k_shape, -4, 4))
    return Case(SignalProblem(a=a_shape, k=k_shape, mode="full"), {"a": a, "k": k})


@st.composite
def auto_int_cases(draw, above_guard):
    """int64 arrays on FFT-favoured shapes.  Below the guard: entries M - d with M = isqrt(INT_GUARD // n)
    (n = the smaller size) and 0 <= d <= M/2, so the bound max|a| max|k| n stays <= INT_GUARD and the search
    shrinks towards the largest outputs (all-M arrays, about 2**52, are inexact).  Above the guard: entries
    from just above sqrt(2**52 / n) to sqrt(2**60 / n), so the bound exceeds INT_GUARD while every output
    stays below 2**60 (int64-exact)."""
    a_shape, k_shape = draw(fft_shapes().filter(lambda s: fft_favoured(*s)))
    n = min(math.prod(a_shape), math.prod(k_shape))
    if above_guard:
        lo, hi = math.isqrt(2 ** 52 // n) + 1, math.isqrt(2 ** 60 // n)
        el = st.integers(lo, hi)
    else:
        top = math.isqrt(INT_GUARD // n)
        el = st.integers(0, top // 2).map(lambda d, top=top: top - d)
    a = draw(hnp.arrays(np.int64, a_shape, elements=el))
    k = draw(hnp.arrays(np.int64, k_shape, elements=el))
    return Case(SignalProblem(a=a_shape, k=k_shape, mode="full", dtype="i64"), {"a": a, "k": k})


AUTO_SRC = "scipy/scipy#7217; scipy/scipy#5608; scipy.signal.choose_conv_method docs and source"
#: the cost model and the integer guard are scipy's internals (scipy/signal/_signaltools.py), tuned between releases
AUTO_COND = M.Condition("measured with scipy 1.17 (choose_conv_method's cost model and integer guard)",
                        (M.version_series("scipy", "1.17"),), library="scipy")


@M.measured(AUTO_COND)
@claim(id="scipy-auto-convolve-float-integers-exact", twin="convolve_direct_only",
       group="scipy", source=AUTO_SRC, needs={"scipy.signal.convolve"},
       expected=REFUTED,
       version_note=f"{AUTO_COND.text}: choose_conv_method picks 'fft' for float data from about 7x7 by 7x7 ('full')",
       statement="signal.convolve(method='auto') of float64 arrays holding small integers returns the exact integer "
                 "result (refuted: the integer guard of choose_conv_method looks at the dtype only, so float64 data "
                 "on shapes where the FFT is estimated faster goes through the FFT and comes back with rounding "
                 "noise, e.g. 2.9999999999999996 or 1e-16 where the exact result is 3 or 0)",
       cases=lambda be: auto_float_cases())
def _(be, case):
    y = be.op("scipy.signal.convolve")(case.a, case.k, "full")
    exact = ref.convolve(case.a, case.k, "full")
    equal(y, exact, "signal.convolve(float64 integers, method='auto') vs the exact integers",
          sides={"a": case.a, "k": case.k, "auto": y, "exact": exact, "difference": y - exact})


@M.measured(AUTO_COND)
@claim(id="scipy-auto-convolve-int64-exact-below-guard", twin="convolve_direct_only", group="scipy", source=AUTO_SRC,
       needs={"scipy.signal.convolve"}, expected=REFUTED,
       version_note=f"{AUTO_COND.text}; over 2900 FFT-favoured 2-D int64 pairs below the guard: inexact in 2 of 930 "
                    "pairs whose largest output lies in [2**49, 2**50), 41% in [2**50, 2**51), 95% in [2**51, 2**52); "
                    "wrong outputs as small as 2**45.5 (the FFT's error is absolute)",
       statement="signal.convolve(method='auto') is exact on int64 wherever its guard lets it take the FFT: the "
                 "guard sends max|a| max|k| min(a.size, k.size) > 2**52 - 1 to 'direct' (refuted: the bound is too "
                 "loose; the FFT result is rounded back to integers, but its error is absolute, so once the largest "
                 "output passes about 2**50 some outputs, small ones included, round to the wrong integer)",
       cases=lambda be: auto_int_cases(above_guard=False))
def _(be, case):
    y = be.op("scipy.signal.convolve")(case.a, case.k, "full")
    exact = ref.convolve(case.a, case.k, "full")           # int64: every output <= the bound < 2**52
    equal(np.asarray(y).astype(object), exact.astype(object),
          f"signal.convolve(int64, method='auto') vs the exact integers (bound max|a| max|k| n = "
          f"2**{math.log2(_guard_bound(case.a, case.k)):.2f} <= 2**52 - 1)", sides={"a": case.a, "k": case.k})


@M.measured(AUTO_COND)
@claim(id="scipy-auto-convolve-int-guard-picks-direct", twin="convolve_auto_without_int_guard", group="scipy", source=AUTO_SRC,
       needs={"scipy.signal.convolve"}, expected=HOLDS, version_note=AUTO_COND.text,
       statement="For integer arrays with max|a| max|k| min(a.size, k.size) > 2**52 - 1, signal.convolve(method="
                 "'auto') takes the direct sum (choose_conv_method's integer guard), even on shapes where the FFT "
                 "is estimated faster, and is exact in int64",
       cases=lambda be: auto_int_cases(above_guard=True))
def _(be, case):
    y = np.asarray(be.op("scipy.signal.convolve")(case.a, case.k, "full"))
    holds(y.dtype == np.int64, f"signal.convolve(int64, int64, method='auto') returned {y.dtype}")
    exact = ref.convolve(case.a, case.k, "full")           # every output < 2**60: exact in int64
    equal(y.astype(object), exact.astype(object), f"signal.convolve(int64, method='auto') vs the exact integers "
          f"(bound 2**{math.log2(_guard_bound(case.a, case.k)):.2f} > 2**52 - 1)", sides={"a": case.a, "k": case.k})


# -- 3. strided 'same' padding: TensorFlow's rule, by hand in torch -----------------------------------

SAME_STRIDE_ERROR = "padding='same' is not supported for strided convolutions"
SAME_SRC = "pytorch/pytorch#67551; pytorch/pytorch#3867; torch.nn.Conv2d docs (padding='same')"


@st.composite
def strided_same_cases(draw):
    """conv{1,2,3}d problems (no padding) with stride 1 on every axis or above 1 on some axis."""
    r = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(r))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(r))
    strided = draw(st.booleans())
    stride = tuple(draw(st.integers(1, 3)) for _ in range(r)) if strided else (1,) * r
    if strided and max(stride) == 1:
        stride = (2,) + stride[1:]
    top = 6 if r < 3 else 2
    spatial = tuple(d * (k - 1) + 1 + draw(st.integers(0, top)) for k, d in zip(kernel, dil))
    p = Problem(c=draw(st.integers(1, 2)), o=draw(st.integers(1, 2)), spatial=spatial, kernel=kernel, stride=stride,
                dilation=dil)
    return Case(p, {"x": draw(_ints(p.x_shape, -4, 4)), "w": draw(_ints(p.w_shape, -4, 4))})


@claim(id="torch-same-padding-rejects-stride", twin="torch_same_any_stride",
       group="torch", source=SAME_SRC, needs={"torch.F"}, expected=HOLDS,
       version_note="torch 2.13.0: F.conv{1,2,3}d raise RuntimeError, nn.Conv{1,2,3}d raise ValueError at "
                    "construction, both with the message \"padding='same' is not supported for strided convolutions\"",
       statement="torch conv{1,2,3}d(padding='same') raise once any stride exceeds 1 (there is no TensorFlow-style "
                 "strided 'same'), in the functional and the module form alike; at stride 1 they keep the size and "
                 "pad d(k-1)//2 before, the rest after",
       cases=lambda be: strided_same_cases())
def _(be, case):
    import torch  # lazy: torch is an optional extra (about 3 s to import); only torch backends reach this
    p = case.problem
    conv = getattr(be.op("torch.F"), f"conv{p.rank}d")
    strided = max(p.stride) > 1
    module = f"nn.Conv{p.rank}d(padding='same', stride={p.stride})"
    try:
        getattr(torch.nn, f"Conv{p.rank}d")(p.c, p.o, p.kernel, stride=p.stride, padding="same", dilation=p.dilation)
    except ValueError as e:
        holds(strided and SAME_STRIDE_ERROR in str(e), f"{module} raised: {e}")
    else:
        holds(not strided, f"{module} did not raise")
    try:
        with warnings.catch_warnings():      # even kernels at odd dilation: "may require a zero-padded copy"
            warnings.simplefilter("ignore", UserWarning)
            y = conv(_t(case.x), _t(case.w), stride=p.stride, padding="same", dilation=p.dilation).numpy()
    except RuntimeError as e:
        holds(strided, f"conv{p.rank}d(padding='same') raised at stride 1 ({p}): {e}")
        holds(SAME_STRIDE_ERROR in str(e), f"conv{p.rank}d(padding='same', stride={p.stride}) raised another error: {e}")
        return
    holds(not strided, f"conv{p.rank}d(padding='same', stride={p.stride}) did not raise ({p}); it returned shape "
          f"{y.shape}", sides={"x": case.x, "w": case.w, "result": y})
    pads = ref.resolve_padding("same", p.kernel, p.dilation)
    exp = ref.direct(case.x, case.w, dilation=p.dilation, padding=pads)
    equal(y, exp, f"conv{p.rank}d(padding='same') vs zero padding {pads}", sides={"x": case.x, "w": case.w})


def tf_same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's 'SAME' padding of one axis: output ceil(L/s), total P = max((ceil(L/s) - 1) s + d(k-1) + 1
    - L, 0) (= max(d(k-1) - (L-1) mod s, 0)), P // 2 before and the rest after."""
    total = max((-(-size // s) - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


@st.composite
def tf_same_cases(draw):
    """conv2d problems carrying TensorFlow's 'SAME' padding (asymmetric where the total is odd)."""
    ax = [(draw(st.integers(1, 9)), draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2)))
          for _ in range(2)]
    p = Problem(c=draw(st.integers(1, 2)), o=draw(st.integers(1, 2)), spatial=tuple(a[0] for a in ax),
                kernel=tuple(a[1] for a in ax), stride=tuple(a[2] for a in ax), dilation=tuple(a[3] for a in ax),
                pads=tuple(tf_same_pads(*a) for a in ax))
    return Case(p, {"x": draw(_ints(p.x_shape, -4, 4)), "w": draw(_ints(p.w_shape, -4, 4))})


@claim(id="tf-same-padding-by-explicit-pad", twin="torch_pad_first_axis_first", group="torch",
       source="TensorFlow docs, tf.nn 'Notes on padding' (SAME); pytorch/pytorch#52631; pytorch/pytorch#3867",
       needs={"torch.F"}, expected=HOLDS,
       statement="TensorFlow's strided 'SAME' (output ceil(L/s); total pad max((ceil(L/s)-1)s + d(k-1)+1 - L, 0), "
                 "the odd element at the end) is reached in torch by F.pad(x, (left, right, top, bottom)) -- the last "
                 "axis first -- then conv2d(stride=s, padding=0), bit for bit",
       cases=lambda be: tf_same_cases())
def _(be, case):
    F = be.op("torch.F")
    p = case.problem
    (t, b), (le, r) = p.pads
    xp = F.pad(_t(case.x), (le, r, t, b))
    padded = (p.spatial[0] + t + b, p.spatial[1] + le + r)
    holds(tuple(xp.shape[2:]) == padded, f"F.pad(x, {(le, r, t, b)}) padded x to {tuple(xp.shape[2:])}, TF 'SAME' pads it "
          f"to {padded} (top {t}, bottom {b}, left {le}, right {r})", sides={"x": case.x})
    y = F.conv2d(xp, _t(case.w), stride=p.stride, dilation=p.dilation).numpy()
    want = (-(-p.spatial[0] // p.stride[0]), -(-p.spatial[1] // p.stride[1]))
    holds(y.shape[2:] == want, f"F.pad{(le, r, t, b)} + conv2d(stride={p.stride}) has spatial shape {y.shape[2:]}, "
          f"TF 'SAME' has ceil(L/s) = {want}", sides={"x": case.x, "w": case.w, "result": y})
    exp = ref.direct(case.x, case.w, stride=p.stride, padding=p.pads, dilation=p.dilation)
    equal(y, exp, f"F.pad{(le, r, t, b)} + conv2d vs TF 'SAME' (zero padding {p.pads})",
          sides={"x": case.x, "w": case.w, "torch": y, "TF SAME": exp})


# -- 4. padding_mode='reflect' in the module path -----------------------------------------------------

@st.composite
def reflect_module_cases(draw):
    """conv2d problems whose padding may reach the input size on either axis (up to size + 2)."""
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    ph, pw = draw(st.integers(0, h + 2)), draw(st.integers(0, w + 2))
    kh, kw = draw(st.integers(1, min(3, h + 2 * ph))), draw(st.integers(1, min(3, w + 2 * pw)))
    p = Problem(c=draw(st.integers(1, 2)), o=draw(st.integers(1, 2)), spatial=(h, w), kernel=(kh, kw), pads=(ph, pw))
    return Case(p, {"x": draw(_ints(p.x_shape, -4, 4)), "w": draw(_ints(p.w_shape, -4, 4))})


@claim(id="torch-reflect-conv-module-is-pad-then-conv", twin="torch_pad_reflect_never_raises", group="torch",
       source="torch.nn.Conv2d docs (padding_mode); pytorch/pytorch#18413", needs={"torch.F"}, expected=HOLDS,
       statement="nn.Conv2d(padding=(ph, pw), padding_mode='reflect') equals F.pad(x, (pw, pw, ph, ph), mode='reflect') "
                 "then F.conv2d(padding=0), bit for bit, and equals the conv of np.pad(mode='reflect'); the module "
                 "inherits reflect's limit: both raise RuntimeError once ph >= H or pw >= W",
       cases=lambda be: reflect_module_cases())
def _(be, case):
    import torch  # lazy: torch is an optional extra (about 3 s to import); only torch backends reach this
    F = be.op("torch.F")
    p = case.problem
    (h, w), ((ph, _), (pw, _)) = p.spatial, p.pads
    m = torch.nn.Conv2d(p.c, p.o, p.kernel, padding=(ph, pw), padding_mode="reflect", bias=False,
                        dtype=torch.float64)
    with torch.no_grad():
        m.weight.copy_(_t(case.w))
    paths = {"nn.Conv2d(padding_mode='reflect')": lambda: m(_t(case.x)),
             "F.pad(mode='reflect') + F.conv2d": lambda: F.conv2d(F.pad(_t(case.x), (pw, pw, ph, ph),
                                                                        mode="reflect"), _t(case.w))}
    too_big = ph >= h or pw >= w
    out = {}
    for name, run in paths.items():
        try:
            with torch.no_grad():
                out[name] = run().numpy()
        except RuntimeError as e:
            holds(too_big, f"{name} raised for padding ({ph}, {pw}) below the input size {h}x{w}: {e}")
            continue
        holds(not too_big, f"{name} accepted padding ({ph}, {pw}) on a {h}x{w} input (reflect needs the "
              f"padding below the size); it returned shape {out[name].shape}", sides={"x": case.x})
    if too_big:
        return
    (mod, mod_y), (fn, fn_y) = out.items()
    equal(mod_y, fn_y, f"{mod} vs {fn}", sides={"x": case.x, "w": case.w, mod: mod_y, fn: fn_y})
    exp = ref.direct(ref.pad_input(case.x, p.pads, "reflect"), case.w)
    equal(mod_y, exp, f"{mod} vs the conv of np.pad(mode='reflect')", sides={"x": case.x, "w": case.w})


# -- 5. conv_transpose's output_padding ----------------------------------------------------------------

OP_ERROR = "output padding must be smaller than either stride or dilation"


@st.composite
def output_padding_cases(draw):
    """conv_transpose2d problems with an output_padding from 0 up to max(stride, dilation) per axis (the top
    value is the first refused one); the output_padding travels as the array ``op`` (a TransposeProblem
    refuses an invalid one)."""
    ax = []
    for _ in range(2):
        L, k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        pad = draw(st.integers(0, ((L - 1) * s + d * (k - 1)) // 2))
        ax.append((L, k, s, d, pad, draw(st.integers(0, max(s, d)))))
    p = TransposeProblem(c=draw(st.integers(1, 2)), o=draw(st.integers(1, 2)), spatial=tuple(a[0] for a in ax),
                         kernel=tuple(a[1] for a in ax), stride=tuple(a[2] for a in ax),
                         dilation=tuple(a[3] for a in ax), pads=tuple(a[4] for a in ax))
    return Case(p, {"x": draw(_ints(p.x_shape, -4, 4)), "w": draw(_ints(p.w_shape, -4, 4)),
                    "op": np.array([float(a[5]) for a in ax])})


@claim(id="torch-conv-transpose-output-padding-rule", twin="torch_op_below_stride", group="torch",
       source="torch.nn.ConvTranspose2d docs (output_padding); pytorch/pytorch#8826; pytorch/pytorch#56328",
       needs={"torch.F"}, expected=HOLDS,
       statement="F.conv_transpose2d accepts output_padding op only when op < max(stride, dilation) on every axis "
                 "-- so op >= stride is accepted where the dilation is larger -- and raises RuntimeError otherwise; "
                 "accepted, the output has (L-1)s - 2p + d(k-1) + op + 1 elements per axis and matches the "
                 "definition (the extra elements at the end)",
       cases=lambda be: output_padding_cases())
def _(be, case):
    F = be.op("torch.F")
    p = case.problem
    op = tuple(int(v) for v in case.op)
    ok = all(o < max(s, d) for o, s, d in zip(op, p.stride, p.dilation))
    what = f"conv_transpose2d(stride={p.stride}, dilation={p.dilation}, output_padding={op})"
    try:
        y = F.conv_transpose2d(_t(case.x), _t(case.w), stride=p.stride, padding=p.padding_arg(), output_padding=op,
                               dilation=p.dilation).numpy()
    except RuntimeError as e:
        holds(not ok, f"{what} raised although output_padding < max(stride, dilation) on every axis: {e}")
        holds(OP_ERROR in str(e), f"{what} raised another error: {e}")
        return
    holds(ok, f"{what} was accepted although output_padding >= max(stride, dilation) on some axis; it returned "
          f"shape {y.shape}", sides={"x": case.x, "w": case.w})
    exp = ref.conv_transpose(case.x, case.w, stride=p.stride, padding=p.padding_arg(), output_padding=op,
                             dilation=p.dilation)
    holds(y.shape == exp.shape, f"{what} has shape {y.shape}, the definition {exp.shape}")
    equal(y, exp, f"{what} vs the definition", sides={"x": case.x, "w": case.w, "torch": y, "definition": exp})


# -- 6. fp16 / bf16 on the CPU: rounded once, or not ---------------------------------------------------

#: per format: (largest |x|, largest |w|) of the integer data: the data and every product are exact in the
#: format (f16: products up to 63 * 31 = 1953 < 2**11; bf16: up to 225 < 2**8), sums of two or more
#: products need more bits than it has, and with at most HALF_TERMS terms every sum is exact in fp32 and
#: below fp16's largest finite value 65504
HALF_DATA = {"f16": (63, 31), "bf16": (15, 15)}
HALF_TERMS = 32


def _torch_dtype(dt):
    import torch  # lazy: torch is an optional extra (about 3 s to import); only torch backends reach this
    return {"f16": torch.float16, "bf16": torch.bfloat16}[dt]


def _axis(draw, kind, rank):
    """(L, k, s, d, p, op) of one transposed-conv axis.  kind: 'any'; 'apart' (no output element receives two
    taps: k = 1, a single input element, or a stride above the dilated kernel's reach d(k-1)); 'meet' (two
    taps meet: k >= 2, L >= 2, dilation 1 and stride below k)."""
    top = 3 if rank == 3 else 5
    if kind == "apart":
        how = draw(st.sampled_from(("k1", "single", "wide")))
        k = 1 if how == "k1" else draw(st.integers(1, 3))
        d = draw(st.integers(1, 2))
        s = draw(st.integers(d * (k - 1) + 1, d * (k - 1) + 2)) if how == "wide" else draw(st.integers(1, 2))
        L = 1 if how == "single" else draw(st.integers(1, top))
    elif kind == "meet":
        k, d = draw(st.integers(2, 3)), 1
        s, L = draw(st.integers(1, k - 1)), draw(st.integers(2, top))
    else:
        k, d, s, L = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, top))
    pad = draw(st.integers(0, min(1, ((L - 1) * s + d * (k - 1)) // 2)))
    return L, k, s, d, pad, draw(st.integers(0, max(s, d) - 1))


def taps_meet(L: int, k: int, s: int, d: int) -> bool:
    """Whether two kernel taps of one axis land on the same output element: i*s + u*d == i'*s + u'*d with
    (i, u) != (i', u'), 0 <= i < L, 0 <= u < k (by enumeration)."""
    seen = set()
    for i in range(L):
        for u in range(k):
            if i * s + u * d in seen:
                return True
            seen.add(i * s + u * d)
    return False


@st.composite
def half_cases(draw, transposed=False, taps="any"):
    """fp16/bf16 conv{1,2,3}d (or conv_transpose{1,2,3}d) problems on integer data (:data:`HALF_DATA`), with
    groups, strides, dilations and padding; ``taps`` ('any', 'apart', 'meet') shapes the transposed axes
    (see :func:`_axis`: 'meet' on at least one axis).  The integers come from a drawn seed, not value by
    value: a difference needs several roundings, which value-by-value shrinking takes about 700 examples to
    keep while reducing (the case still carries its values, and its shapes shrink)."""
    dt = draw(st.sampled_from(("f16", "bf16")))
    rank = draw(st.integers(1, 3))
    if taps == "meet":
        kinds = [draw(st.sampled_from(("any", "meet"))) for _ in range(rank)]
        kinds[draw(st.integers(0, rank - 1))] = "meet"
    else:
        kinds = [taps] * rank
    ax = [_axis(draw, kind, rank) for kind in kinds]
    g = draw(st.integers(1, 2))
    taps_n = math.prod(a[1] for a in ax)
    cg = draw(st.integers(1, max(1, min(4, HALF_TERMS // taps_n))))
    og = draw(st.integers(1, 3))
    common = dict(n=draw(st.integers(1, 2)), c=cg * g, o=og * g, g=g, kernel=tuple(a[1] for a in ax),
                  stride=tuple(a[2] for a in ax), dilation=tuple(a[3] for a in ax), pads=tuple(a[4] for a in ax),
                  dtype=dt, regime="int")
    if transposed:
        p = TransposeProblem(spatial=tuple(a[0] for a in ax), out_pad=tuple(a[5] for a in ax), **common)
    else:       # a conv input at least as long as the dilated kernel
        p = Problem(spatial=tuple(a[0] + a[3] * (a[1] - 1) for a in ax), **common)
    mx, mw = HALF_DATA[dt]
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    x, w = (rng.integers(-m, m + 1, size=shape).astype(np.float64) for m, shape in ((mx, p.x_shape), (mw, p.w_shape)))
    return Case(p, {"x": cast(x, dt), "w": cast(w, dt)})


def _half_call(be, case, transposed):
    """The backend's torch.F conv in the case's half format, on the case's values; returns float64."""
    p = case.problem
    td = _torch_dtype(p.dtype)
    x, w = (_t(np.asarray(a, dtype=np.float32)).to(td) for a in (case.x, case.w))
    F = be.op("torch.F")
    if transposed:
        y = getattr(F, f"conv_transpose{p.rank}d")(x, w, stride=p.stride, padding=p.padding_arg(),
                                                   output_padding=p.out_pad, groups=p.g, dilation=p.dilation)
    else:
        y = getattr(F, f"conv{p.rank}d")(x, w, stride=p.stride, padding=p.padding_arg(), dilation=p.dilation,
                                         groups=p.g)
    return y.float().numpy().astype(np.float64)


def _exact(case, transposed):
    p = case.problem
    x, w = (np.asarray(a, dtype=np.float64) for a in (case.x, case.w))
    if transposed:
        return ref.conv_transpose(x, w, stride=p.stride, padding=p.padding_arg(), output_padding=p.out_pad,
                                  groups=p.g, dilation=p.dilation)
    return ref.direct(x, w, stride=p.stride, padding=p.padding_arg(), dilation=p.dilation, groups=p.g)


def _rounded_once(case, transposed):
    return np.asarray(cast(_exact(case, transposed), case.problem.dtype), dtype=np.float64)


HALF_SRC = "PyTorch CPU conv kernels (oneDNN / slow_conv_transpose{2,3}d: gemm + col2im); pytorch/pytorch#153700"
#: the half-format claims model the kernels torch 2.13 picks on the CPU (:mod:`convspec.model.machine`'s kernel rule):
#: its ATen ones (slow_conv2d/3d, slow_conv_transpose2d/3d: gemm in fp32, col2im in the half format) where the
#: CPU lacks oneDNN's half support, oneDNN's (fp32 accumulation throughout) where it has it
ATEN_HALF = {f"{dt} {op}": {"aten"} for dt in M.HALF for op in M.OPS}
HALF_ATEN = M.Condition(
    "measured on an x86-64 AVX2 CPU without AVX-512 (AMD EPYC), torch 2.13, with torch's ATen CPU kernels for "
    "float16 and bfloat16 (slow_conv*, slow_conv_transpose*: gemm + col2im); where torch runs them on oneDNN "
    "(bfloat16 on AVX-512 or AVX-NE-CONVERT CPUs, float16 on AVX512-FP16 or AVX-NE-CONVERT CPUs) they differ",
    (M.x86_64, M.version_series("torch", "2.13"), M.torch_kernels(ATEN_HALF)), library="torch")
HALF_FP32_ACC = M.Condition(
    "measured on x86-64, torch 2.13: float16 with torch's ATen CPU kernels (AVX2 CPU), bfloat16 with the ATen "
    "kernels (AVX2 CPU) and with oneDNN's (an AVX-512 BF16 CPU, issue 18); float16 on oneDNN (AVX512-FP16 or "
    "AVX-NE-CONVERT CPUs) was not measured",
    (M.x86_64, M.version_series("torch", "2.13"),
     M.torch_kernels({"f16 conv": {"aten"}, "bf16 conv": {"aten", "onednn"}})), library="torch")
HALF_NOTE = ("pytorch/pytorch#153700: oneDNN runs fp16/bf16 deconvolution natively on AVX-512 FP16/BF16 CPUs and "
             "accumulates in fp32 throughout")


@M.measured(HALF_FP32_ACC)
@claim(id="torch-cpu-half-conv-rounds-once", twin="torch_conv_accumulates_in_half",
       group="torch", source=HALF_SRC, needs={"torch.F"}, expected=HOLDS,
       version_note=HALF_FP32_ACC.text,
       statement="conv1d, conv2d and conv3d in float16 and bfloat16 on the CPU return the exact result rounded once "
                 "to the format, bit for bit (with groups, stride, dilation, padding), on integer data whose sums are "
                 "exact in fp32 but need more bits than the half format has: they accumulate in fp32",
       cases=lambda be: half_cases())
def _(be, case):
    p = case.problem
    y = _half_call(be, case, False)
    equal(y, _rounded_once(case, False), f"torch conv{p.rank}d({p.dtype}) vs the exact result rounded once to {p.dtype}",
          sides={"x": case.x, "w": case.w, "torch": y, "exact": _exact(case, False)})


#: inside the condition (one tap, one input element), three channels whose products 1953, 96 and 1 sum to the
#: float16 2050 -- but to 2048 where the channels are added in float16 one by one (2049 is a tie, twice)
HALF_CHANNELS_EXAMPLE = Case(TransposeProblem(c=3, spatial=(1,), kernel=(1,), dtype="f16", regime="int"), {
    "x": cast(np.array([[[63.0], [32.0], [1.0]]]), "f16"), "w": cast(np.array([[[31.0]], [[3.0]], [[1.0]]]), "f16")})


@M.measured(HALF_ATEN)
@claim(id="torch-cpu-half-conv-transpose-rounds-once", twin="torch_transpose_rounded_once",
       group="torch", source=HALF_SRC, needs={"torch.F"},
       expected=CONDITIONAL, budget=0.5, version_note=f"{HALF_ATEN.text}; {HALF_NOTE}",
       examples=(HALF_CHANNELS_EXAMPLE,),
       condition="no output element receives two kernel taps (per axis: kernel 1, a single input element, or "
                 "taps that never meet, e.g. a stride above d(k-1))",
       statement="conv_transpose1d/2d/3d in float16 and bfloat16 on the CPU return the exact result rounded once "
                 "only where no two kernel taps meet at an output element: the per-tap products are summed over "
                 "the input channels in fp32 and rounded to the format, but the overlapping taps are then added in "
                 "the half format itself (col2im), which rounds again",
       cases=lambda be: half_cases(transposed=True, taps="apart"),
       outside=lambda be: half_cases(transposed=True, taps="meet"))
def _(be, case):
    p = case.problem
    y = _half_call(be, case, True)
    equal(y, _rounded_once(case, True), f"torch conv_transpose{p.rank}d({p.dtype}) vs the exact result rounded once "
          f"to {p.dtype}", sides={"x": case.x, "w": case.w, "torch": y, "exact": _exact(case, True)})


def transpose_taps_in_half(case):
    """The CPU kernel's arithmetic, as measured: for each kernel tap u (in row-major order), the products summed
    over the input channels of its group exactly (fp32 is exact on this data) and rounded to the half format,
    then scattered into the uncropped output y[i*s + u*d] with one half-format addition (round after each);
    finally cropped by the padding (:func:`convspec.truth.reference.conv_transpose` without the rounding)."""
    p = case.problem
    dt = p.dtype
    x, w = (np.asarray(a, dtype=np.float64) for a in (case.x, case.w))
    r, cg, og = p.rank, p.c // p.g, p.o // p.g
    L, out = p.spatial, p.out_spatial()
    full = np.zeros((p.n, p.o) + tuple(max((li - 1) * si + di * (ki - 1) + 1, pi + oi) for li, si, di, ki, (pi, _), oi
                                       in zip(L, p.stride, p.dilation, p.kernel, p.pads, out)))
    for u in np.ndindex(*p.kernel):
        tgt = tuple(slice(ui * di, ui * di + (li - 1) * si + 1, si) for ui, di, li, si in zip(u, p.dilation, L, p.stride))
        for g in range(p.g):
            col = np.tensordot(x[:, g * cg:(g + 1) * cg], w[(slice(g * cg, (g + 1) * cg), slice(None)) + u],
                               axes=([1], [0])).transpose(0, r + 1, *range(1, r + 1))
            at = (slice(None), slice(g * og, (g + 1) * og)) + tgt
            full[at] = cast(full[at] + cast(col, dt).astype(np.float64), dt)
    return np.ascontiguousarray(full[(slice(None), slice(None)) + tuple(slice(pi, pi + oi) for (pi, _), oi
                                                                         in zip(p.pads, out))])


@M.measured(HALF_ATEN)
@claim(id="torch-cpu-half-conv-transpose-sums-taps-in-half", twin="torch_transpose_rounded_once",
       group="torch", source=HALF_SRC, needs={"torch.F"},
       expected=HOLDS, version_note=f"{HALF_ATEN.text}; {HALF_NOTE}",
       statement="conv_transpose1d/2d/3d in float16/bfloat16 on the CPU compute, bit for bit, a per-tap sum over the "
                 "input channels in fp32 rounded to the format, then add the kernel taps meeting at an output "
                 "element in the half format, one rounding per addition, in row-major tap order",
       cases=lambda be: half_cases(transposed=True))
def _(be, case):
    p = case.problem
    y = _half_call(be, case, True)
    model = transpose_taps_in_half(case)
    equal(y, model, f"torch conv_transpose{p.rank}d({p.dtype}) vs fp32 per-tap sums + taps added in {p.dtype}",
          sides={"x": case.x, "w": case.w, "torch": y, "model": model, "rounded once": _rounded_once(case, True)})


def _half_grads(be, case):
    """The input and weight gradients of the backend's torch.F.conv{r}d in the case's half format, by autograd
    (torch's convolution_backward, what torch.nn.grad.conv{r}d_input/_weight call too); float64 results."""
    p = case.problem
    td = _torch_dtype(p.dtype)
    gy = _t(np.asarray(case.x, dtype=np.float32)).to(td)
    w = _t(np.asarray(case.w, dtype=np.float32)).to(td).requires_grad_(True)
    xf = _t(np.asarray(case.xf, dtype=np.float32)).to(td).requires_grad_(True)
    y = getattr(be.op("torch.F"), f"conv{p.rank}d")(xf, w, stride=p.stride, padding=p.padding_arg(),
                                                  dilation=p.dilation, groups=p.g)
    y.backward(gy)
    return (xf.grad.float().numpy().astype(np.float64), w.grad.float().numpy().astype(np.float64))


@st.composite
def half_grad_cases(draw):
    """Half-format gradient problems (a transposed conv whose output_padding lies below the stride: the backward
    pass of a conv) with integer grad_out, weights and forward input (:data:`HALF_DATA`)."""
    case = draw(half_cases(transposed=True).filter(lambda c: c.problem.gradient_ok))
    p = case.problem
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    mx, _ = HALF_DATA[p.dtype]
    return Case(p, {**case.arrays, "xf": cast(rng.integers(-mx, mx + 1, size=p.y_shape).astype(np.float64), p.dtype)})


@M.measured(HALF_ATEN)
@claim(id="torch-cpu-half-gradients-round-once", twin="torch_half_grads_in_fp32",
       group="torch", source=HALF_SRC, needs={"torch.F"}, expected=REFUTED,
       budget=0.5, version_note=HALF_ATEN.text,
       statement="The input and weight gradients of conv1d/2d/3d (autograd; torch.nn.grad.conv*_input/_weight run the "
                 "same kernels) in float16 and bfloat16 on the CPU return the exact gradient rounded once to the "
                 "format, as the forward convs do by accumulating in fp32",
       cases=lambda be: half_grad_cases())
def _(be, case):
    p = case.problem
    gi, gw = _half_grads(be, case)
    x, w, xf = (np.asarray(a, dtype=np.float64) for a in (case.x, case.w, case.xf))
    kw = p.grad_kwargs()
    ei = ref.conv_input(p.y_shape, w, x, **kw)
    ew = ref.conv_weight(xf, p.w_shape, x, **kw)
    equal(gi, np.asarray(cast(ei, p.dtype), dtype=np.float64), f"torch conv{p.rank}d_input({p.dtype}) vs the exact "
          "gradient rounded once", sides={"grad_out": case.x, "w": case.w, "torch": gi, "exact": ei})
    equal(gw, np.asarray(cast(ew, p.dtype), dtype=np.float64), f"torch conv{p.rank}d_weight({p.dtype}) vs the exact "
          "gradient rounded once", sides={"x": case.xf, "grad_out": case.x, "torch": gw, "exact": ew})
