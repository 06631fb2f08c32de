"""A correct plain torch (CPU) wrapper of the whole contract, written as a user would: the 14 ops through
``torch.nn.functional`` (conv{1,2,3}d, conv_transpose{1,2,3}d), ``torch.nn.grad`` (conv{1,2,3}d_input,
conv{1,2,3}d_weight) and, for the signal ops, ``F.conv2d`` on the zero-padded signal (full size), the
kernel rotated by 180 degrees for convolve2d and conjugated for correlate2d, then cropped as scipy.signal
crops ('same' from (P - 1) // 2 for convolve, P // 2 for correlate; 'valid' from min(M, P) - 1).

    pytest --impl examples/torch_family.py --backends none     # or: convspec gate examples/torch_family.py

Whatever torch does not support simply raises, as a user's wrapper would: the gate's probing turns it
off.  An asymmetric padding (before, after pairs) or a padding_mode other than zeros is ``F.pad`` first
(mode constant / reflect / replicate / circular), then a conv without padding: what ``nn.Conv{r}d`` does.

Arithmetic (torch's, not this wrapper's): on the CPU torch sums the forward convs' float16/bfloat16 data
in float32 and rounds once, but the transposed convs and both gradients in the half format itself
(measured by the claims torch-cpu-half-conv-transpose-rounds-once and torch-cpu-half-gradients-round-once),
so ``CAPABILITIES`` declares ``accumulate`` half for those kinds, as ``convspec/backends/torch_backend.py``
does.  torch runs with one intra-op thread (small problems, several processes on few cores).

Declarations.  ``CAPABILITIES`` is the full declaration below, unless the environment variable
``CONVSPEC_EXAMPLE_CAPS`` holds a JSON object: then that object is the declaration (``{}`` declares
nothing).  With ``"layout": "NHWC"`` every activation (x, grad_out, the result, input_shape) is
channels last, with ``"weight_layout": "HWIO"`` the weights (and weight_shape, and the weight gradient)
are (k..., C/G, O), or (k..., O/G, C) for the transposed convs: the wrapper permutes them for torch.
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

NAME = "torch-family"
HALF_SUMS = {f"{kind}:{dt}": dt for kind in ("transpose", "input", "weight") for dt in ("f16", "bf16")}
FULL = {"dtypes": ["f64", "f32", "f16", "bf16"], "padding_strings": True,
        "padding_modes": ["zeros", "reflect", "replicate", "circular"], "padding_pairs": True,
        "accumulate": HALF_SUMS}
CAPABILITIES = json.loads(os.environ["CONVSPEC_EXAMPLE_CAPS"]) if os.environ.get("CONVSPEC_EXAMPLE_CAPS") else FULL

CHANNELS_LAST = CAPABILITIES.get("layout", "NCHW") in ("NHWC", "NWC", "NDHWC")
HWIO = CAPABILITIES.get("weight_layout", "OIHW") in ("HWIO", "WIO", "DHWIO")

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
GRAD_INPUT = {1: torch.nn.grad.conv1d_input, 2: torch.nn.grad.conv2d_input, 3: torch.nn.grad.conv3d_input}
GRAD_WEIGHT = {1: torch.nn.grad.conv1d_weight, 2: torch.nn.grad.conv2d_weight, 3: torch.nn.grad.conv3d_weight}


# -- numpy <-> torch ----------------------------------------------------------------------------------

def _t(a):
    """A tensor holding a copy of ``a`` (bfloat16 arrays from ml_dtypes go over as their 16 bits)."""
    if a is None:
        return None
    a = np.array(a, order="C", copy=True)
    if a.dtype.name == "bfloat16":
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


def _np(t):
    if t.dtype == torch.bfloat16:
        from ml_dtypes import bfloat16
        return t.contiguous().view(torch.int16).numpy().view(bfloat16).copy()
    return t.contiguous().numpy().copy()


def _act_in(t):
    """An activation tensor as given -> channels first."""
    return t.movedim(-1, 1) if CHANNELS_LAST else t


def _act_out(t):
    return t.movedim(1, -1) if CHANNELS_LAST else t


def _w_in(t):
    r = t.dim() - 2
    return t.permute(r + 1, r, *range(r)) if HWIO else t


def _w_out(t):
    r = t.dim() - 2
    return t.permute(*range(2, r + 2), 1, 0) if HWIO else t


def _ints(v, r):
    return tuple(int(e) for e in v) if isinstance(v, (tuple, list)) else (int(v),) * r


def _pads(padding, r):
    """An int, r ints or r (before, after) pairs -> ((before, after), ...)."""
    if isinstance(padding, (tuple, list)):
        return tuple((int(p[0]), int(p[1])) if isinstance(p, (tuple, list)) else (int(p), int(p)) for p in padding)
    return ((int(padding), int(padding)),) * r


def _one_per_axis(padding, r):
    pads = _pads(padding, r)
    if any(lo != hi for lo, hi in pads):
        raise ValueError(f"padding={padding!r}: one padding per axis")
    return tuple(lo for lo, _ in pads)


# -- the contract ---------------------------------------------------------------------------------------

def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    xt, wt = _act_in(_t(x)), _w_in(_t(w))
    r = wt.dim() - 2
    s, d = _ints(stride, r), _ints(dilation, r)
    if isinstance(padding, str) and padding_mode == "zeros":
        y = CONV[r](xt, wt, _t(b), stride=s, padding=padding, dilation=d, groups=int(groups))
        return _np(_act_out(y))
    if padding == "same":          # with a padding_mode: what nn.Conv{r}d does, d (k - 1) // 2 before, the rest after
        pads = tuple((dd * (k - 1) // 2, dd * (k - 1) - dd * (k - 1) // 2) for k, dd in zip(wt.shape[2:], d))
    else:
        pads = _pads(0 if padding == "valid" else padding, r)
    if padding_mode != "zeros" or any(lo != hi for lo, hi in pads):
        flat = [v for lo, hi in reversed(pads) for v in (lo, hi)]       # F.pad: the last axis first
        xt = F.pad(xt, flat, mode="constant" if padding_mode == "zeros" else padding_mode)
        pads = ((0, 0),) * r
    y = CONV[r](xt, wt, _t(b), stride=s, padding=tuple(lo for lo, _ in pads), dilation=d, groups=int(groups))
    return _np(_act_out(y))


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    xt, wt = _act_in(_t(x)), _w_in(_t(w))
    r = wt.dim() - 2
    y = CONV_T[r](xt, wt, _t(b), stride=_ints(stride, r), padding=_one_per_axis(padding, r),
                  output_padding=_ints(output_padding, r), groups=int(groups), dilation=_ints(dilation, r))
    return _np(_act_out(y))


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    wt, gt = _w_in(_t(w)), _act_in(_t(grad_out))
    r = wt.dim() - 2
    shape = [int(v) for v in input_shape]
    if CHANNELS_LAST:
        shape = [shape[0], shape[-1], *shape[1:-1]]
    y = GRAD_INPUT[r](shape, wt, gt, stride=_ints(stride, r), padding=_one_per_axis(padding, r),
                      dilation=_ints(dilation, r), groups=int(groups))
    return _np(_act_out(y))


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    xt, gt = _act_in(_t(x)), _act_in(_t(grad_out))
    shape = [int(v) for v in weight_shape]
    if HWIO:
        shape = [shape[-1], shape[-2], *shape[:-2]]
    r = len(shape) - 2
    y = GRAD_WEIGHT[r](xt, shape, gt, stride=_ints(stride, r), padding=_one_per_axis(padding, r),
                       dilation=_ints(dilation, r), groups=int(groups))
    return _np(_w_out(y))


conv1d = conv2d = conv3d = conv
conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose
conv1d_input = conv2d_input = conv3d_input = conv_input
conv1d_weight = conv2d_weight = conv3d_weight = conv_weight


def _signal(a, k, mode, correlate):
    a, k = np.asarray(a), np.asarray(k)
    dt = np.result_type(a, k)
    at, kt = _t(a.astype(dt)), _t(k.astype(dt))
    kt = kt.conj() if correlate else kt.flip(0, 1)
    (M, N), (P, Q) = a.shape, k.shape
    full = F.conv2d(at[None, None], kt.resolve_conj()[None, None], padding=(P - 1, Q - 1))[0, 0]
    if mode == "full":
        y = full
    elif mode == "same":
        i, j = (P // 2, Q // 2) if correlate else ((P - 1) // 2, (Q - 1) // 2)
        y = full[i:i + M, j:j + N]
    elif mode == "valid":
        if not ((M >= P and N >= Q) or (P >= M and Q >= N)):
            raise ValueError("mode='valid': one array must be at least as large as the other in every dimension")
        y = full[min(M, P) - 1:max(M, P), min(N, Q) - 1:max(N, Q)]
    else:
        raise ValueError(f"mode={mode!r}: expected 'full', 'same' or 'valid'")
    return _np(y)


def convolve2d(a, k, mode="full"):
    return _signal(a, k, mode, correlate=False)


def correlate2d(a, k, mode="full"):
    return _signal(a, k, mode, correlate=True)
