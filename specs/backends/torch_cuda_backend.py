"""torch on CUDA (cuDNN): F.conv2d on device 'cuda', with TF32 allowed (the cuDNN default) or off.

Both are registered always; without a GPU they are unavailable and every test of theirs is skipped
with a reason that says what would have run.
"""

from __future__ import annotations

import numpy as np

from . import Backend, Capabilities, builtin


def _unavailable() -> str:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return "torch is not installed"
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build"
        return (f"no CUDA device visible to torch {torch.__version__} ({build}): would have run F.conv2d on "
                "device 'cuda' through cuDNN")
    return ""


def make_conv2d(tf32: bool, deterministic: bool = True):
    def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        import torch
        import torch.nn.functional as F
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.deterministic = deterministic
        torch.backends.cudnn.benchmark = not deterministic

        def d(a):
            return None if a is None else torch.from_numpy(np.ascontiguousarray(a)).cuda()
        y = F.conv2d(d(x), d(w), d(b), stride=stride, padding=padding, dilation=dilation, groups=groups)
        return y.cpu().numpy()
    return conv2d


def _make(name, tf32):
    why = _unavailable()
    suffix = " with TF32 allowed (cudnn.allow_tf32=True)" if tf32 else " with TF32 off"
    return Backend(name, {"conv2d": make_conv2d(tf32), "cuda.device": True},
                   Capabilities(dtypes=("f32", "f64", "f16"), mode="tf32" if tf32 else None),
                   library="torch cuDNN", unavailable=(why + suffix) if why else "")


@builtin("torch-cuda-tf32")
def _tf32():
    return _make("torch-cuda-tf32", True)


@builtin("torch-cuda-fp32")
def _fp32():
    return _make("torch-cuda-fp32", False)
