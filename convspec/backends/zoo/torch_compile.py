"""torch.compile (TorchInductor on CPU) of torch's convs: the compiled graph is what is gated, not eager torch.

Per op, ``torch.compile(fn, backend=$CONVSPEC_TORCH_COMPILE_BACKEND or "aot_eager", dynamic=False,
fullgraph=True)`` of:

* conv{r}d: ``F.conv{r}d(x, w, b, stride, padding, dilation, groups)`` (an asymmetric padding is ``F.pad`` inside
  the compiled function, then a conv with padding 0; 'valid'/'same' go to torch as they are);
* conv_transpose{r}d: ``F.conv_transpose{r}d`` (torch's own semantics, the contract's definition);
* conv{r}d_input / conv{r}d_weight: the gradient of the compiled conv -- ``torch.autograd.grad`` of the
  compiled forward at grad_out, so AOTAutograd's compiled backward graph computes it.
One compiled callable per op, arguments, shapes and dtype (``dynamic=False``: every shape is its own graph).
Dynamo's recompile limit is raised and hitting it raises (``fail_on_recompile_limit_hit``): a silent fall-back
to eager would gate eager torch instead.  One intra-op thread, as the torch backend.

**Which compiler backend.**  "aot_eager" (Dynamo's graph capture and AOTAutograd's forward and backward graphs, run
by eager kernels) is the default because TorchInductor compiles C++ per graph: on this project's 2-core machine
the first inductor compile took 169 s and each further shape 2-27 s, so a gate (hundreds of shapes) cannot finish;
``CONVSPEC_TORCH_COMPILE_BACKEND=inductor`` gates inductor itself (the compile seconds are in COMPILE_SECONDS).
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch
import torch._dynamo
import torch.nn.functional as F

from convspec.backends._util import ntuple, pad_pairs, torch_tensor, transpose_params
from convspec.model.problem import np_dtype

torch.set_num_threads(1)
torch._dynamo.config.recompile_limit = 1 << 20
torch._dynamo.config.accumulated_recompile_limit = 1 << 20
torch._dynamo.config.fail_on_recompile_limit_hit = True

BACKEND = os.environ.get("CONVSPEC_TORCH_COMPILE_BACKEND", "aot_eager")
NAME = "torch-compile"
__version__ = torch.__version__
#: torch's CPU kernels sum the transposed conv and the gradients of half-precision data in that format (the torch
#: backend's declaration, measured in issue 10); aot_eager runs those same kernels
CAPABILITIES = {"dtypes": ["f64", "f32", "f16", "bf16"], "groups": True, "stride": None, "dilation": None,
                "padding_pairs": True, "padding_strings": True, "timeout": 300 if BACKEND == "inductor" else 60,
                "accumulate": {f"{k}:{d}": d for k in ("transpose", "input", "weight") for d in ("f16", "bf16")}}

DEPARTURES = {}

_FN = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_TFN = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_BF16 = np_dtype("bf16")
_COMPILED: dict = {}
#: seconds spent compiling (first calls of each compiled callable), for the report
COMPILE_SECONDS: list = []


def _np(t):
    t = t.detach()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().copy().view(_BF16)
    return t.numpy().copy()


def _compiled(key, make):
    """The compiled callable for ``key`` (made by ``make()`` and ``torch.compile``d once), and whether it is new."""
    fn = _COMPILED.get(key)
    if fn is None:
        fn = _COMPILED[key] = torch.compile(make(), backend=BACKEND, dynamic=False, fullgraph=True)
        return fn, True
    return fn, False


def _timed(fresh, call):
    t0 = time.perf_counter()
    out = call()
    if fresh:
        COMPILE_SECONDS.append(time.perf_counter() - t0)
    return out


def _forward(r, stride, padding, dilation, groups, kw):
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    fn = _FN[r]
    if isinstance(padding, str):
        return lambda x, w, b: fn(x, w, b, stride=s, padding=padding, dilation=d, groups=groups)
    pads = pad_pairs(padding, kw, d)
    if any(lo != hi for lo, hi in pads):
        flat = [v for lo, hi in reversed(pads) for v in (lo, hi)]
        return lambda x, w, b: fn(F.pad(x, flat), w, b, stride=s, padding=0, dilation=d, groups=groups)
    sym = tuple(lo for lo, _ in pads)
    return lambda x, w, b: fn(x, w, b, stride=s, padding=sym, dilation=d, groups=groups)


def _key(op, arrays, **kw):
    """The cache key: the op, the arrays' shapes and dtypes (numpy arrays or torch tensors), the arguments."""
    def sig(a):
        return None if a is None else (tuple(a.shape), str(a.dtype))
    return (op, tuple(sig(a) for a in arrays), repr(sorted(kw.items())))


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """torch.compile(F.conv{r}d)."""
    r = np.ndim(x) - 2
    key = _key("conv", (x, w, b), stride=stride, padding=padding, dilation=dilation, groups=groups)
    fn, fresh = _compiled(key, lambda: _forward(r, stride, padding, dilation, int(groups), np.shape(w)[2:]))
    with torch.no_grad():
        return _np(_timed(fresh, lambda: fn(torch_tensor(x), torch_tensor(w), torch_tensor(b))))


conv1d = conv2d = conv3d = conv


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.compile(F.conv_transpose{r}d)."""
    s, p, op, d = transpose_params(w, stride, padding, output_padding, dilation)
    r, g = len(s), int(groups)
    key = _key("transpose", (x, w, b), s=s, p=p, outpad=op, d=d, g=g)
    fn, fresh = _compiled(key, lambda: (lambda x_, w_, b_: _TFN[r](x_, w_, b_, stride=s, padding=p,
                                                                   output_padding=op, groups=g, dilation=d)))
    with torch.no_grad():
        return _np(_timed(fresh, lambda: fn(torch_tensor(x), torch_tensor(w), torch_tensor(b))))


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose


def _grad(which, x, w, grad_out, stride, padding, dilation, groups):
    r = x.dim() - 2
    key = _key("grad", (x, w, grad_out), stride=stride, padding=padding, dilation=dilation, groups=groups,
               which=which)
    fn, fresh = _compiled(key, lambda: _forward(r, stride, padding, dilation, int(groups), tuple(w.shape[2:])))
    leaf = (x if which == "x" else w).requires_grad_(True)

    def run():
        y = fn(x, w, None)
        return torch.autograd.grad(y, leaf, grad_out)[0]
    return _np(_timed(fresh, run))


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of the compiled conv with respect to x (AOTAutograd's compiled backward)."""
    go = torch_tensor(grad_out).clone()
    x = torch.zeros(tuple(int(v) for v in input_shape), dtype=go.dtype)
    return _grad("x", x, torch_tensor(w).clone().to(go.dtype), go, stride, padding, dilation, groups)


conv1d_input = conv2d_input = conv3d_input = conv_input


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of the compiled conv with respect to w (AOTAutograd's compiled backward)."""
    go = torch_tensor(grad_out).clone()
    w = torch.zeros(tuple(int(v) for v in weight_shape), dtype=go.dtype)
    return _grad("w", torch_tensor(x).clone().to(go.dtype), w, go, stride, padding, dilation, groups)


conv1d_weight = conv2d_weight = conv3d_weight = conv_weight
