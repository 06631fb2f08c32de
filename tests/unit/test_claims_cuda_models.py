"""The GPU claims, checked on the CPU against models of what the H100 measured (no GPU needed).

``cudnn_model`` (tests/gallery/twins/_cuda.py) behaves as cuDNN did on the H100: TF32 input rounding
only at tensor-core shapes (64 channels per group and more), float32 FFT for kernels of 5 and more, a
direct float32 sum otherwise; it declares what torch-cuda declares (accuracy "fast", a GPU, the
``cudnn.version`` op).  Every GPU claim must give its expected verdict on it; the tensor-core
examples must refute "within the fp32 bound" *by construction* (:func:`convspec.specs.libraries.cuda.separation`);
the small-shape search alone must miss TF32 -- the H100's "no counterexample" -- and ``tf32-emu`` must
keep its small shapes.
"""

from __future__ import annotations

import dataclasses

import pytest
from convspec.specs.libraries import cuda as C
from hypothesis import settings

from convspec.backends import registry as backends
from convspec.claims import REGISTRY, load_builtin
from convspec.drawing import strategies as S
from convspec.model.problem import Problem
from convspec.search.engine import run_claim
from convspec.truth.tolerance import accumulation_for
from tests.gallery.twins._cuda import cudnn_like, cudnn_model

load_builtin()

TF32_MODEL = cudnn_like("cudnn-model-tf32", cudnn_model(True), True)
FP32_MODEL = cudnn_like("cudnn-model-fp32", cudnn_model(False), False)


@pytest.mark.parametrize(("shape", "integer", "layout"), [
    (C.TENSOR_CORE_EXAMPLES[0], False, "tap"),   # the n4c64h32w32_o64k3x3_p1x1
    (C.TENSOR_CORE_EXAMPLES[1], False, "tap"),
    (C.TENSOR_CORE_EXAMPLES[1], True, "tap"),    # integers: x in [2049, 2561), w in {1, 2}
    ("n2c16h40w40_o8k7x7_p3x3", False, "tap"),   # the measured non-tensor-core shape (inside of the conditional)
])
def test_pinned_ties_must_refute_the_fp32_bound(shape, integer, layout):
    """Any backend that rounds these inputs to TF32 (by any rule) and then sums within its class's fp32
    bound lies outside the fp32 bound somewhere: both classes, the direct one (tf32-emu) and the fast one
    (cuDNN)."""
    case = C.tie_case(Problem.parse(shape + "_f32_flt"), 1, layout, integer)
    for kind in ("direct", "fast"):
        sep = C.separation(case, accumulation_for("f32", None, kind))
        assert sep > 1, f"{shape} ({'int' if integer else 'flt'}, {kind}): TF32 rounding moves the result by " \
                        f"{sep:.2f} fp32 bounds only"


def test_quarter_ulp_data_round_the_same_under_every_rule():
    import numpy as np
    x = C.tf32_quarters(np.random.default_rng(0), (1000,)).astype(np.float64)
    spacing = 4.0                                    # TF32 spacing in [4096, 8192)
    nearest, truncated = np.round(x / spacing) * spacing, np.floor(x / spacing) * spacing
    assert np.array_equal(nearest, truncated) and np.all(x - nearest == 1)


@pytest.mark.parametrize(("claim_id", "model", "found"), [
    ("tf32-within-fp32-bound", TF32_MODEL, "refuted"),
    ("tf32-integers-above-2048-exact", TF32_MODEL, "refuted"),
    ("tf32-within-tf32-bound", TF32_MODEL, "holds"),
    ("allow-tf32-rounds-every-conv", TF32_MODEL, "refuted"),
    ("cudnn-tf32-within-fp32-bound-below-tensor-core-shapes", TF32_MODEL, "conditional"),
    ("cudnn-fp32-exact-on-small-integers", FP32_MODEL, "refuted"),
    ("cuda-fp32-within-fp32-bound", FP32_MODEL, "holds"),
    ("cuda-agrees-with-cpu", FP32_MODEL, "holds"),
])
def test_gpu_claims_on_the_cudnn_model(claim_id, model, found):
    out = run_claim(REGISTRY[claim_id], model(), settings.default)
    assert out.ok and out.found == found, f"{claim_id}: {out.found}: {out.message[:500]}"
    if claim_id.startswith("tf32-") and found == "refuted":
        assert out.case.problem.c >= C.TENSOR_CORE_CHANNELS, f"refuted off tensor-core shapes: {out.case.problem}"


def test_small_shapes_alone_miss_tf32_like_the_h100():
    """Negative control: with the small-shape strategy only (what ran on the H100), the cuDNN model gives
    no counterexample to tf32-within-fp32-bound -- the tensor-core strategy is what finds it."""
    claim = REGISTRY["tf32-within-fp32-bound"]
    small = dataclasses.replace(claim, cases=lambda be: S.conv_cases(be.caps, dtypes=("f32",), regimes=("flt",),
                                                                     value_level=False))
    out = run_claim(small, TF32_MODEL(), settings.default)
    assert out.found == "no-counterexample", out.message[:500]


def test_tf32_emu_keeps_small_shapes():
    """tf32-emu (no GPU) gets the claims' own small strategy; a GPU backend that admits 64 channels gets
    the tensor-core one, a GPU backend that does not (the numba simulator's limits) the small one."""
    sentinel = object()
    small = C.tf32_cases(lambda be: sentinel)
    assert small(backends.get("tf32-emu")) is sentinel
    assert small(TF32_MODEL()) is not sentinel
    assert not C.tensor_cores_reachable(backends.get("numba-cuda-direct").caps) or \
        backends.get("numba-cuda-direct").caps.max_channels is None


def test_gpu_backends_declare_the_fast_class():
    for name in ("torch-cuda-fp32", "torch-cuda-tf32"):
        be = backends.get(name)
        assert be.caps.accuracy == "fast" and be.caps.gpu and "cudnn.version" in be.provides
    assert backends.get("torch-cuda-tf32").caps.mode == "tf32" and backends.get("torch-cuda-fp32").caps.mode is None


# -- the measured condition (issue 18) -----------------------------------------------------------------------

CUDNN_CLAIMS = ("tf32-within-fp32-bound", "tf32-integers-above-2048-exact", "cudnn-fp32-exact-on-small-integers",
                "allow-tf32-rounds-every-conv", "cudnn-tf32-within-fp32-bound-below-tensor-core-shapes")


@pytest.mark.parametrize(("gpu", "cudnn", "holds"), [
    ("9.0", "9.19.0", True),        # the H100 of issue 8
    ("9.0", "9.1.0", True),         # same architecture, same cuDNN major release
    ("8.0", "9.19.0", False),       # an A100: another architecture, other heuristics
    ("9.0", "8.9.7", False),        # cuDNN 8
    ("none", None, False),          # no GPU
])
def test_cudnn_claims_hold_only_where_measured(gpu, cudnn, holds):
    from convspec.model import machine
    env = {machine.ENV_MACHINE: f"gpu={gpu}" + (f"; cudnn={cudnn}" if cudnn else "")}
    for cid in CUDNN_CLAIMS:
        assert machine.MEASURED[cid] is C.H100_COND and C.H100_COND.text in REGISTRY[cid].version_note
        for name in ("torch-cuda-tf32", "torch-cuda-fp32"):
            ok, why = machine.condition_holds(cid, backends.get(name), environ=env)
            assert ok == holds, why
            assert holds or (why.startswith(f"not applicable here: {C.H100_COND.text}; this machine has ") and
                             (f"compute capability {gpu}" in why or "no CUDA GPU" in why or f"cuDNN {cudnn}" in why))


def test_cudnn_condition_leaves_emulation_and_models_alone():
    """The condition is about cuDNN's heuristics: tf32-emu and the cuDNN models here run the same claims on any
    machine (their verdicts are by construction)."""
    from convspec.model import machine
    env = {machine.ENV_MACHINE: "gpu=none"}
    for be in (backends.get("tf32-emu"), TF32_MODEL(), FP32_MODEL()):
        for cid in CUDNN_CLAIMS:
            assert machine.condition_holds(cid, be, environ=env) == (True, "")
    for cid in ("tf32-within-tf32-bound", "cuda-fp32-within-fp32-bound", "cuda-deterministic-reruns-bitwise",
                "cuda-agrees-with-cpu"):         # bounds and documented behaviour: no condition
        assert cid not in machine.MEASURED
