"""torch on CUDA (cuDNN): F.conv2d on device 'cuda', with TF32 allowed (the cuDNN default) or off.

Both are registered always; without a GPU they are unavailable and every test of theirs is skipped
with a reason that says what would have run.

**Accuracy class "fast", TF32 or not.**  cuDNN picks its algorithm by shape, among implicit GEMM,
FFT, FFT tiling and Winograd kernels, and with TF32 allowed among tensor-core (TF32) kernels too.
``deterministic=True`` and ``benchmark=False`` make the choice deterministic, not direct: on an H100
(cuDNN 9.19) float32 with TF32 off picks FFT at n2c16h40w40_o8k7x7_p3x3 (21073 of 25600 outputs
inexact on integer data; convspec issue 8).  So both backends declare accuracy "fast", the class whose
bound covers direct, FFT and Winograd sums (and, with mode "tf32", TF32 input rounding on top): a
correct cuDNN is never refuted by the algorithm it picked.  The claims that are about that choice live
in :mod:`convspec.specs.libraries.cuda` and need the ``cudnn.version`` op, which only these backends provide.
"""

from __future__ import annotations

import numpy as np

# torch is an extra: without it both backends are unavailable (torch_backend, which the registry loads first,
# has imported it already when it is installed)
try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    torch = F = None

from convspec.backends.base import Backend, Capabilities, declare_op
from convspec.backends.registry import builtin

declare_op("cudnn.version", "cuDNN's version (torch.backends.cudnn.version()): the backend is torch on CUDA "
                            "through cuDNN, which picks its algorithm by shape")


def _unavailable() -> str:
    if torch is None:  # pragma: no cover
        return "torch is not installed"
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build"
        return (f"no CUDA device visible to torch {torch.__version__} ({build}): would have run F.conv2d on "
                "device 'cuda' through cuDNN")
    return ""


def make_conv2d(tf32: bool, deterministic: bool = True):
    def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.deterministic = deterministic
        torch.backends.cudnn.benchmark = not deterministic

        def d(a):
            return None if a is None else torch.from_numpy(np.ascontiguousarray(a)).cuda()
        y = F.conv2d(d(x), d(w), d(b), stride=stride, padding=padding, dilation=dilation, groups=groups)
        return y.cpu().numpy()
    return conv2d


def cudnn_version():
    """torch.backends.cudnn.version() (None when cuDNN is not available)."""
    return torch.backends.cudnn.version()


def caps(tf32: bool) -> Capabilities:
    """Fast class (cuDNN may pick FFT/Winograd, and TF32 tensor cores when allowed), on a GPU."""
    return Capabilities(dtypes=("f32", "f64", "f16"), mode="tf32" if tf32 else None, accuracy="fast", gpu=True)


def _make(name, tf32):
    why = _unavailable()
    suffix = " with TF32 allowed (cudnn.allow_tf32=True)" if tf32 else " with TF32 off"
    version = ""
    if not why:
        version = f"{torch.__version__}, cuDNN {cudnn_version()}"
    return Backend(name, {"conv2d": make_conv2d(tf32), "cudnn.version": cudnn_version}, caps(tf32),
                   library="torch cuDNN", version=version, unavailable=(why + suffix) if why else "")


@builtin("torch-cuda-tf32")
def _tf32():
    return _make("torch-cuda-tf32", True)


@builtin("torch-cuda-fp32")
def _fp32():
    return _make("torch-cuda-fp32", False)
