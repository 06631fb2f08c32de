"""CUDA-path claims: TF32 accuracy, cuDNN's choice of algorithm, determinism, CPU/GPU agreement.

Who runs what is decided by declarations only:

* TF32 claims (``requires={"mode:tf32"}``): the CPU emulation ``tf32-emu`` (TF32 on every call, a
  direct sum) and torch on CUDA with TF32 allowed (cuDNN: TF32 only where it picks a tensor-core kernel);
* cuDNN claims (``needs={"cudnn.version"}``): torch on CUDA, whose library picks among implicit GEMM,
  FFT, Winograd and tensor-core kernels by shape;
* GPU claims (``requires={"gpu"}``): the numba-cuda kernels (on the simulator without a GPU) and torch on
  CUDA.

**Accuracy classes.**  A backend whose library may pick FFT, Winograd or TF32 declares accuracy "fast"
(torch-cuda-fp32 and -tf32: cuDNN picks FFT kernels for float32 even with TF32 off and
``deterministic=True``).  "Within the fp32 bound" is always the fp32 bound *of the backend's class*
(:func:`fp32_of`): elementwise for a direct sum, normwise for a fast one.  So a refutation is never an
FFT artefact: it needs an error no fp32 algorithm of that class may make.

**Data that make TF32 visible through the fast bound** (:func:`tf32_ties`).  Positive float32 values
whose 12-bit significand m = 4j + 1 (m in [2049, 2561)) ends in exactly half a TF32 ulp: round to
nearest even and truncation move every factor down by 1/m, round-half-away moves every factor up, so
the errors of a sum of positive terms add up instead of cancelling (2**-11.3 relative per factor).  In
the "tap" layout only the centre tap of each filter and the one input pixel it meets at one output are
nonzero: the normwise FFT/Winograd terms then measure that one pixel, not the whole plane.
:func:`separation` computes, with the error model itself, whether a case *must* refute "within the
fp32 bound" on any backend that rounds to TF32 (tests/unit/test_claims_cuda_models.py checks the pinned
tensor-core examples).

**Tensor-core shapes.**  cuDNN uses TF32 only where it picks a tensor-core kernel: on an H100 (cuDNN
9.19) at 64 channels and more (n4c64h32w32_o64k3x3_p1x1: 17-19x the elementwise fp32 bound), not at 16 or
fewer (n2c16h40w40_o8k7x7_p3x3 stays within fp32).  On a GPU backend (``Capabilities.gpu``) whose
declared channel limit admits 64, the TF32 strategies draw such shapes (:data:`TENSOR_CORE_EXAMPLES`
first, then 64..128 channels); ``tf32-emu`` keeps the small shapes of the general strategies.

**Measured condition.**  The claims about which kernel cuDNN picks (FFT at a shape, tensor cores from 64
channels, fp32 below) were measured on one GPU and cuDNN release: they carry :data:`H100_COND`
(:func:`convspec.model.machine.measured`), checked on the torch cuDNN backends only (``tf32-emu`` and models of
cuDNN are not concerned), so that on another GPU generation or cuDNN major release they are not applicable
rather than wrong.  The bound claims (within the TF32 bound, within the fp32 bound with TF32 off, reruns,
CPU agreement) hold for every correct cuDNN and need none.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec.backends import registry as backends
from convspec.backends.base import declare_op
from convspec.claims import CONDITIONAL, HOLDS, REFUTED, claim
from convspec.drawing import strategies as S
from convspec.model import machine as M
from convspec.model.case import Case, round_significand
from convspec.model.problem import Problem
from convspec.truth.check import close, equal
from convspec.truth.oracle import conv_allowed, conv_exact, conv_expect
from convspec.truth.tolerance import accumulation_for

declare_op("cudnn.version", "cuDNN's version (torch.backends.cudnn.version()): the backend is torch on CUDA "
                            "through cuDNN, which picks its algorithm by shape")

TF32_SRC = ("pytorch/pytorch#153698; pytorch/pytorch#107514; torch.backends.cudnn.allow_tf32 docs; PyTorch CUDA "
            "semantics notes (TensorFloat-32 on Ampere and later devices)")
CUDNN_SRC = ("cuDNN API reference: cudnnConvolutionFwdAlgo_t (IMPLICIT_GEMM, FFT, FFT_TILING, WINOGRAD, "
             "WINOGRAD_NONFUSED) and cudnnMathType_t; PyTorch reproducibility notes (cudnn.deterministic); "
             "convspec issue 8 (H100, torch 2.11+cu130, cuDNN 9.19)")
#: cuDNN's heuristics are per GPU architecture and release: the condition admits the measured architecture
#: (compute capability 9.0: H100, H200) and cuDNN major release (9)
H100_COND = M.Condition("measured on an H100 (compute capability 9.0) with torch 2.11+cu130 and cuDNN 9.19 (convspec "
                        "issue 8); checked: a compute-capability-9.0 GPU and cuDNN 9.x",
                        (M.gpu_capability("9.0"), M.cudnn_series("9")), library="torch cuDNN")
H100_NOTE = f"{H100_COND.text}; cuDNN picks its kernel by heuristics that change between versions and GPUs"

#: at 64 channels and more cuDNN picks tensor-core (TF32) kernels on an H100; the first was measured
TENSOR_CORE_EXAMPLES = ("n4c64h32w32_o64k3x3_p1x1", "n2c64h8w8_o64k1x1")
#: the shape where cuDNN picks FFT for float32 with TF32 off (21073 of 25600 outputs inexact on integers)
CUDNN_FFT_SHAPE = "n2c16h40w40_o8k7x7_s1x1_p3x3_d1x1_g1_nobias_f32_int"
#: at most this many channels per group (in and out) cuDNN picked no tensor-core kernel on an H100
NO_TENSOR_CORE_CHANNELS = 16
TENSOR_CORE_CHANNELS = 64


def fp32_of(be):
    """The fp32 accumulation model of ``be``'s accuracy class (no TF32 input rounding)."""
    return accumulation_for("f32", None, be.caps.accuracy)


def tensor_cores_reachable(caps) -> bool:
    """A GPU backend whose declared limits admit tensor-core shapes (64 channels per group)."""
    return bool(getattr(caps, "gpu", False)) and caps.bound("channels", TENSOR_CORE_CHANNELS) >= TENSOR_CORE_CHANNELS


# -- data -----------------------------------------------------------------------------------------

def tf32_ties(rng, shape, integer=False):
    """Positive float32 values TF32 cannot hold, all rounded the same way (see the module docstring):
    12-bit significands 4j + 1 in [2049, 2561); integers themselves when ``integer``, else scaled into
    [1, 1.25)."""
    m = (4 * rng.integers(512, 640, size=shape) + 1).astype(np.float64)
    return (m if integer else np.ldexp(m, -11)).astype(np.float32)


def tf32_quarters(rng, shape):
    """Positive float32 integers 4j + 1 in [4097, 8192): a quarter of a TF32 ulp above 4j, so that
    round to nearest (either tie rule) and truncation all give 4j -- one TF32 rounding, whatever the
    hardware does."""
    return (4 * rng.integers(1024, 2048, size=shape) + 1).astype(np.float32)


def tap_site(p: Problem):
    """(r, q, u, v): a filter tap (u, v) -- the centre one when it can -- and the input pixel (r, q) it meets
    at some output, inside the input (not in the padding); None when every output reads padding only
    along an axis (e.g. H=1, padding 1, stride 2)."""

    def axis(n, k, s, pad, d, out):
        for t in sorted(range(k), key=lambda t: abs(t - k // 2)):
            for i in range(out):
                r = i * s + t * d - pad
                if 0 <= r < n:
                    return r, t
        return None
    rows, cols = (axis(n, k, s, lo, d, out) for n, k, s, (lo, _), d, out
                  in zip(p.spatial, p.kernel, p.stride, p.pads, p.dilation, p.out_spatial()))
    return None if rows is None or cols is None else (rows[0], cols[0], rows[1], cols[1])


def tie_case(p: Problem, seed: int, layout: str = "tap", integer: bool = False) -> Case:
    """A case of TF32 ties (see :func:`tf32_ties`): "dense" everywhere, or "tap" (one filter tap and the
    one pixel it meets, per channel; dense when no tap meets the input).  Integer cases keep w in {1, 2}
    (exactly representable), so that every fp32 direct sum is exact (S < 2**24)."""
    rng = np.random.default_rng([int(seed), 0x7F32])
    x = tf32_ties(rng, p.x_shape, integer)
    w = rng.integers(1, 3, size=p.w_shape).astype(np.float32) if integer else tf32_ties(rng, p.w_shape)
    site = tap_site(p) if layout == "tap" else None
    if site is not None:
        r, q, u, v = site
        xs, ws = np.zeros_like(x), np.zeros_like(w)
        xs[:, :, r, q], ws[:, :, u, v] = x[:, :, r, q], w[:, :, u, v]
        x, w = xs, ws
    return Case(p.with_(dtype="f32", regime="int" if integer else "flt", bias=False), {"x": x, "w": w})


def rounded(case) -> Case:
    """The same case with x and w rounded to TF32 (11 significant bits, round to nearest even)."""
    return Case(case.problem, {"x": round_significand(case.x, 11), "w": round_significand(case.w, 11)})


def separation(case, acc) -> float:
    """max over outputs of (D - E_r) / E: D = |conv(x, w) - conv(tf32(x), tf32(w))| (what TF32 rounding
    moves), E the allowed error of class ``acc`` on (x, w) and E_r on the rounded data.  Above 1, every
    backend that rounds its inputs to TF32 and then computes within ``acc``'s bound must exceed the fp32
    bound somewhere: the case refutes "within the fp32 bound" by construction."""
    r = rounded(case)
    y, _ = conv_exact(case)
    yr, _ = conv_exact(r)
    e, er = conv_allowed(acc, case), conv_allowed(acc, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(e > 0, (np.abs(y - yr) - er) / np.where(e > 0, e, 1), np.where(np.abs(y - yr) > er, np.inf, 0))
    return float(s.max()) if s.size else 0.0


# -- strategies -----------------------------------------------------------------------------------

@st.composite
def tensor_core_problems(draw, caps):
    """float32 problems with 64..128 channels (within ``caps``): where cuDNN picks tensor-core kernels; 1x1
    and 3x3 kernels, planes up to 16x16 and batches up to 2, so that the float64 reference stays cheap (the
    pinned examples add the measured 32x32 one)."""
    top = max(TENSOR_CORE_CHANNELS, caps.bound("channels", 128))
    c, o = draw(st.integers(TENSOR_CORE_CHANNELS, top)), draw(st.integers(TENSOR_CORE_CHANNELS, top))
    k = draw(st.sampled_from([1, 3]))
    s = draw(st.integers(1, caps.bound("stride", 2)))
    size = max(k + 1, caps.bound("size", 16))
    h, w = draw(st.integers(k + 1, size)), draw(st.integers(k + 1, size))
    return Problem(n=draw(st.integers(1, caps.bound("batch", 2))), c=c, spatial=(h, w), o=o, kernel=(k, k), stride=(s, s),
                   pads=(k // 2, k // 2), dtype="f32", regime="flt")


def _pinned(caps, layout, integer):
    probs = [Problem.parse(d + "_f32_flt") for d in TENSOR_CORE_EXAMPLES]
    return [tie_case(p, 1, layout, integer) for p in probs if caps.fits(p)[0]]


def tf32_cases(small, integer=False, layouts=("tap",)):
    """Factory: the ``small`` strategy (tf32-emu, or a GPU backend that cannot reach 64 channels), or on a
    GPU backend the pinned tensor-core examples first, then tensor-core shapes with TF32 ties in one of
    ``layouts`` (only "tap" data can refute an fp32 bound of the fast class), then ``small``."""
    def make(be):
        if not tensor_cores_reachable(be.caps):
            return small(be)
        pinned = _pinned(be.caps, "tap", integer)
        tc = st.builds(lambda p, seed, layout: tie_case(p, seed, layout, integer), tensor_core_problems(be.caps),
                       st.integers(0, 2 ** 32 - 1), st.sampled_from(layouts))
        return st.one_of(*([st.sampled_from(pinned)] if pinned else []), tc, small(be))
    return make


# -- TF32 -------------------------------------------------------------------------------------------

@claim(id="tf32-within-tf32-bound", twin="cuda_bf16_claims_tf32",
       group="cuda", source=TF32_SRC, needs={"conv2d"}, requires={"mode:tf32"},
       expected=HOLDS,
       statement="With TF32 allowed, float32 conv results stay within the TF32 bound of the backend's accuracy "
                 "class (inputs rounded to 11 significant bits, fp32 accumulation; normwise where FFT or "
                 "Winograd may be picked)",
       cases=tf32_cases(lambda be: S.conv_cases(be.caps, dtypes=("f32",), regimes=("flt",)), layouts=("tap", "dense")))
def _(be, case):
    y = be.call("conv2d", case)
    exp, allowed = conv_expect(be, case)
    close(y, exp, allowed, f"{be.name}.conv2d vs exact (TF32 bound, {be.caps.accuracy} class)",
          sides={"x": case.x, "w": case.w})


@M.measured(H100_COND)
@claim(id="tf32-within-fp32-bound", twin="cuda_fp32_claims_tf32",
       group="cuda", source=TF32_SRC, needs={"conv2d"}, requires={"mode:tf32"},
       expected=REFUTED,
       statement="With TF32 allowed, float32 conv results stay within the fp32 bound of the backend's accuracy "
                 "class (refuted: TF32 rounds the inputs to 11 significant bits -- on cuDNN only at tensor-core "
                 "shapes, 64 channels and more)",
       version_note=H100_NOTE,
       cases=tf32_cases(lambda be: S.conv_cases(be.caps, dtypes=("f32",), regimes=("flt",), value_level=False)))
def _(be, case):
    y = be.call("conv2d", case)
    exp, _ = conv_exact(case)
    close(y, exp, conv_allowed(fp32_of(be), case), f"{be.name}.conv2d vs exact (fp32 bound, {be.caps.accuracy} class)",
          sides={"x": case.x, "w": case.w, "observed": y, "exact": exp})


@st.composite
def big_integer_cases(draw, caps):
    """Small shapes; x in [2049, 2561) of the form 4j + 1 (TF32 rounds each one by 1, all the same way),
    w in {1, 2}: every fp32 direct sum is exact (S < 2**24), a TF32 one is off by sum |w| at least."""
    p = draw(S.conv_problems(caps, dtypes=("f32",), regimes=("int",), max_class=1, bias=False))
    return tie_case(p, draw(st.integers(0, 2 ** 32 - 1)), "dense", integer=True)


@M.measured(H100_COND)
@claim(id="tf32-integers-above-2048-exact", twin="cuda_fp32_claims_tf32",
       group="cuda", source=TF32_SRC, needs={"conv2d"}, requires={"mode:tf32"},
       expected=REFUTED,
       statement="Integer-valued float32 data is computed as accurately under TF32 as under fp32: exactly by a "
                 "direct sum, within the fp32 bound by a fast one (refuted above 2048: 11 significant bits cannot "
                 "hold 2049)",
       version_note=H100_NOTE,
       cases=tf32_cases(lambda be: big_integer_cases(be.caps), integer=True))
def _(be, case):
    y = be.call("conv2d", case)
    exp, _ = conv_exact(case)
    close(y, exp, conv_allowed(fp32_of(be), case), f"{be.name}.conv2d on integers in [2049, 2561) vs exact "
          f"(fp32, {be.caps.accuracy} class)", sides={"x": case.x, "w": case.w})


# -- cuDNN ------------------------------------------------------------------------------------------

@st.composite
def cudnn_fft_problems(draw, caps):
    """float32 small-integer problems with large kernels and planes, where cuDNN tends to pick FFT."""
    kmax = caps.bound("kernel", 7)
    k = draw(st.integers(min(5, kmax), kmax))
    size = caps.bound("size", 64)
    h, w = draw(st.integers(min(size, 24), size)), draw(st.integers(min(size, 24), size))
    cmax = caps.bound("channels", 32)
    return Problem(n=draw(st.integers(1, caps.bound("batch", 4))), c=draw(st.integers(min(cmax, 8), cmax)),
                   spatial=(max(h, k), max(w, k)), o=draw(st.integers(4, 16)), kernel=(k, k), pads=(k // 2, k // 2),
                   dtype="f32", regime="int")


def _cudnn_fft_cases(be):
    pinned = Case.seeded(Problem.parse(CUDNN_FFT_SHAPE), 1)
    seeded = st.builds(Case.seeded, cudnn_fft_problems(be.caps), st.integers(0, 2 ** 32 - 1))
    return st.one_of(st.just(pinned), seeded) if be.caps.fits(pinned.problem)[0] else seeded


@M.measured(H100_COND)
@claim(id="cudnn-fp32-exact-on-small-integers", twin="cudnn_never_fft",
       group="cuda", source=CUDNN_SRC, needs={"conv2d", "cudnn.version"},
       requires={"mode:native"}, expected=REFUTED, version_note=H100_NOTE,
       statement="With TF32 off, deterministic=True and benchmark=False, cuDNN's float32 conv is exact on "
                 "small-integer data, as every direct sum is (refuted: cuDNN picks FFT kernels, e.g. 21073 of "
                 "25600 outputs inexact at n2c16h40w40_o8k7x7_p3x3, -36.99998 for -37)",
       cases=_cudnn_fft_cases)
def _(be, case):
    y = be.call("conv2d", case)
    exp, _ = conv_exact(case)
    equal(y, exp, f"{be.name}.conv2d on small integers vs exact (every direct sum is exact here)",
          sides={"x": case.x, "w": case.w, "observed": y, "exact": exp})


@st.composite
def quarter_cases(draw, caps):
    """Small shapes (16 channels or fewer) with x = 4j + 1 in [4097, 8192), w in {1, 2}: fp32 computes
    them exactly, TF32 moves every x by 1 (to 4j, under any rounding rule)."""
    p = draw(S.conv_problems(caps, dtypes=("f32",), regimes=("int",), max_class=1, bias=False, g=1))
    rng = np.random.default_rng([draw(st.integers(0, 2 ** 32 - 1)), 0x7F32])
    return Case(p, {"x": tf32_quarters(rng, p.x_shape), "w": rng.integers(1, 3, size=p.w_shape).astype(np.float32)})


#: the smallest counterexample: one product, 4097 * 1 (TF32 holds 4096)
QUARTER_EXAMPLE = Case(Problem(dtype="f32"), {"x": np.full((1, 1, 1, 1), 4097, np.float32),
                                              "w": np.ones((1, 1, 1, 1), np.float32)})


@M.measured(H100_COND)
@claim(id="allow-tf32-rounds-every-conv", twin="cudnn_tf32_everywhere", group="cuda", source=f"{TF32_SRC}; {CUDNN_SRC}",
       needs={"conv2d", "cudnn.version"}, requires={"mode:tf32"}, expected=REFUTED, version_note=H100_NOTE,
       statement="With allow_tf32=True every float32 conv rounds its inputs to TF32: the result is the conv of "
                 "the TF32-rounded inputs within the fp32 bound (refuted: cuDNN uses TF32 only in tensor-core "
                 "kernels; a small problem is computed in fp32, exactly on 4097 * 1)",
       cases=lambda be: st.one_of(st.just(QUARTER_EXAMPLE), quarter_cases(be.caps)))
def _(be, case):
    y = be.call("conv2d", case)
    r = rounded(case)
    exp, _ = conv_exact(r)
    close(y, exp, conv_allowed(fp32_of(be), r), f"{be.name}.conv2d vs the conv of the TF32-rounded inputs "
          f"(fp32 bound, {be.caps.accuracy} class)", sides={"x": case.x, "tf32(x)": r.x, "w": case.w, "observed": y})


def _below_tensor_cores(be):
    """Shapes of the general strategy space with at most 16 channels per group in and out, TF32 ties."""
    caps = be.caps
    p = S.conv_problems(caps, dtypes=("f32",), regimes=("flt",), bias=False).filter(
        lambda p: max(p.c // p.g, p.o // p.g) <= NO_TENSOR_CORE_CHANNELS)
    measured = tie_case(Problem.parse(CUDNN_FFT_SHAPE), 1, "tap")
    tie = st.builds(tie_case, p, st.integers(0, 2 ** 32 - 1), st.sampled_from(["tap", "dense"]))
    return st.one_of(st.just(measured), tie) if caps.fits(measured.problem)[0] else tie


def _tensor_core_ties(be):
    pinned = _pinned(be.caps, "tap", False)
    tc = st.builds(tie_case, tensor_core_problems(be.caps), st.integers(0, 2 ** 32 - 1), st.just("tap"))
    return st.one_of(st.sampled_from(pinned), tc) if pinned else tc


@M.measured(H100_COND)
@claim(id="cudnn-tf32-within-fp32-bound-below-tensor-core-shapes", twin="cudnn_tf32_everywhere",
       group="cuda", source=f"{TF32_SRC}; {CUDNN_SRC}",
       needs={"conv2d", "cudnn.version"}, requires={"mode:tf32"}, expected=CONDITIONAL,
       condition=f"at most {NO_TENSOR_CORE_CHANNELS} channels per group in and out (no tensor-core kernel; "
                 f"outside: {TENSOR_CORE_CHANNELS} and more)",
       version_note=H100_NOTE + f"; between {NO_TENSOR_CORE_CHANNELS + 1} and {TENSOR_CORE_CHANNELS - 1} channels "
                    "the choice was not measured and is not claimed",
       statement="With TF32 allowed, cuDNN float32 results stay within the fp32 bound of its class only where it "
                 "picks no tensor-core kernel: shape-dependent, by cuDNN's heuristics (n2c16h40w40_o8k7x7 stays "
                 "within; at n4c64h32w32_o64k3x3_p1x1 TF32 errors were 17-19x the elementwise fp32 bound)",
       cases=_below_tensor_cores, outside=_tensor_core_ties)
def _(be, case):
    y = be.call("conv2d", case)
    exp, _ = conv_exact(case)
    close(y, exp, conv_allowed(fp32_of(be), case), f"{be.name}.conv2d vs exact (fp32 bound, {be.caps.accuracy} class)",
          sides={"x": case.x, "w": case.w, "observed": y, "exact": exp})


# -- any GPU path -------------------------------------------------------------------------------------

@claim(id="cuda-fp32-within-fp32-bound", twin="cuda_tf32_silently", group="cuda", source=TF32_SRC, needs={"conv2d"},
       requires={"gpu", "mode:native"}, expected=HOLDS,
       statement="With TF32 off, CUDA float32 conv results stay within the fp32 bound of the backend's accuracy "
                 "class (elementwise for direct kernels, normwise where cuDNN may pick FFT or Winograd)",
       cases=S.conv(dtypes=("f32",)))
def _(be, case):
    y = be.call("conv2d", case)
    exp, _ = conv_exact(case)
    close(y, exp, conv_allowed(fp32_of(be), case), f"{be.name}.conv2d vs exact (fp32 bound, {be.caps.accuracy} class)",
          sides={"x": case.x, "w": case.w})


@claim(id="cuda-deterministic-reruns-bitwise", twin="cuda_random_order_sum", group="cuda",
       source="torch.backends.cudnn.deterministic docs (PyTorch reproducibility notes)",
       needs={"conv2d"}, requires={"gpu", "deterministic"}, expected=HOLDS,
       statement="With cudnn.deterministic=True and benchmark=False (or a fixed-order kernel), reruns are equal bit "
                 "for bit",
       cases=S.conv(regimes=("flt",)), budget=0.5)
def _(be, case):
    first = be.call("conv2d", case)
    for k in range(2):
        equal(be.call("conv2d", case), first, f"{be.name}.conv2d rerun {k + 1} vs first run")


@claim(id="cuda-agrees-with-cpu", twin="cuda_pads_one_side", group="cuda", source="convspec error model (issue: CUDA path)",
       needs={"conv2d"}, requires={"gpu"}, expected=HOLDS,
       statement="CPU (torch) and CUDA results agree within the bound of the less precise of the two",
       cases=S.conv())
def _(be, case):
    cpu = backends.get("torch")
    y_gpu = be.call("conv2d", case)
    y_cpu = cpu.call("conv2d", case)
    _, a_gpu = conv_expect(be, case)
    _, a_cpu = conv_expect(cpu, case)
    close(y_gpu, y_cpu, a_gpu + a_cpu, f"{be.name} vs torch CPU", sides={"x": case.x, "w": case.w, "gpu": y_gpu,
                                                                          "cpu": y_cpu})
