"""CUDA-path claims: TF32 accuracy, determinism, CPU/GPU agreement.

They apply to backends by declaration: TF32 claims to backends whose accumulation mode is "tf32"
(the CPU TF32 emulation, torch on CUDA with TF32 allowed); the others to backends that provide the
"cuda.device" op (numba-cuda kernels -- on the simulator without a GPU -- and torch on CUDA).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import strategies as S
from ..case import Case
from ..check import close, equal
from ..oracle import conv_allowed, conv_exact, conv_expect
from ..tolerance import ACCUMULATIONS
from . import HOLDS, REFUTED, claim

TF32_SRC = "pytorch/pytorch#153698; pytorch/pytorch#107514; torch.backends.cudnn.allow_tf32 docs"


@claim(id="tf32-within-tf32-bound", group="cuda", source=TF32_SRC, needs={"conv2d"}, requires={"mode:tf32"},
       expected=HOLDS,
       statement="With TF32 allowed, float32 conv results stay within the TF32 bound (inputs rounded to a 10-bit "
                 "mantissa, products and sums in fp32)",
       cases=S.conv(dtypes=("f32",), regimes=("flt",)))
def _(be, case):
    y = be.call("conv2d", case)
    exp, _ = conv_exact(case)
    close(y, exp, conv_allowed(ACCUMULATIONS["tf32"], case), f"{be.name}.conv2d vs exact (TF32 bound)",
          sides={"x": case.x, "w": case.w})


@claim(id="tf32-within-fp32-bound", group="cuda", source=TF32_SRC, needs={"conv2d"}, requires={"mode:tf32"},
       expected=REFUTED,
       statement="With TF32 allowed, float32 conv results stay within the fp32 bound (refuted: TF32 rounds the "
                 "inputs to 11 significant bits)",
       cases=S.conv(dtypes=("f32",), regimes=("flt",), value_level=False))
def _(be, case):
    y = be.call("conv2d", case)
    exp, _ = conv_exact(case)
    close(y, exp, conv_allowed(ACCUMULATIONS["f32"], case), f"{be.name}.conv2d vs exact (fp32 bound)",
          sides={"x": case.x, "w": case.w, "observed": y, "exact": exp})


@st.composite
def big_integer_cases(draw, caps):
    p = draw(S.conv_problems(caps, dtypes=("f32",), regimes=("int",), max_class=1, bias=False))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.integers(2049, 4096, size=p.x_shape).astype(np.float32)
    w = rng.integers(-2, 3, size=p.w_shape).astype(np.float32)
    return Case(p, {"x": x, "w": w}, None)


@claim(id="tf32-integers-above-2048-exact", group="cuda", source=TF32_SRC, needs={"conv2d"}, requires={"mode:tf32"},
       expected=REFUTED,
       statement="Integer-valued float32 data stays exact under TF32 as under fp32 (refuted above 2048: 11 "
                 "significant bits cannot hold 2049)",
       cases=lambda be: big_integer_cases(be.caps))
def _(be, case):
    y = be.call("conv2d", case)
    exp, _ = conv_exact(case)
    equal(y, exp, f"{be.name}.conv2d on integers in [2049, 4095] vs exact", sides={"x": case.x, "w": case.w})


@claim(id="cuda-fp32-within-fp32-bound", group="cuda", source=TF32_SRC, needs={"conv2d", "cuda.device"},
       requires={"mode:native"}, expected=HOLDS,
       statement="With TF32 off, CUDA float32 conv results stay within the fp32 bound",
       cases=S.conv(dtypes=("f32",)))
def _(be, case):
    y = be.call("conv2d", case)
    exp, _ = conv_exact(case)
    close(y, exp, conv_allowed(ACCUMULATIONS["f32"], case), f"{be.name}.conv2d vs exact (fp32 bound)",
          sides={"x": case.x, "w": case.w})


@claim(id="cuda-deterministic-reruns-bitwise", group="cuda",
       source="torch.backends.cudnn.deterministic docs (PyTorch reproducibility notes)",
       needs={"conv2d", "cuda.device"}, requires={"deterministic"}, expected=HOLDS,
       statement="With cudnn.deterministic=True and benchmark=False (or a fixed-order kernel), reruns are equal bit "
                 "for bit",
       cases=S.conv(regimes=("flt",)), budget=0.5)
def _(be, case):
    first = be.call("conv2d", case)
    for k in range(2):
        equal(be.call("conv2d", case), first, f"{be.name}.conv2d rerun {k + 1} vs first run")


@claim(id="cuda-agrees-with-cpu", group="cuda", source="convspec error model (issue: CUDA path)",
       needs={"conv2d", "cuda.device"}, expected=HOLDS,
       statement="CPU (torch) and CUDA results agree within the bound of the less precise of the two",
       cases=S.conv())
def _(be, case):
    from .. import backends
    cpu = backends.get("torch")
    y_gpu = be.call("conv2d", case)
    y_cpu = cpu.call("conv2d", case)
    _, a_gpu = conv_expect(be, case)
    _, a_cpu = conv_expect(cpu, case)
    close(y_gpu, y_cpu, a_gpu + a_cpu, f"{be.name} vs torch CPU", sides={"x": case.x, "w": case.w, "gpu": y_gpu,
                                                                          "cpu": y_cpu})


