"""Wrong twins of the rank-generic claims (issue 10): each is the numpy backend with one classic bug
planted, written once for every rank, so the 1-D and 3-D variants of a claim are shown to fail on the
same bug as the 2-D one."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from convspec.backends import numpy_backend as nb
from convspec.backends import registry as backends
from convspec.backends.base import Backend
from convspec.claims import REGISTRY, ranked
from convspec.model.ops import RANKS
from tests.twins.twin_registry import register


def _flip(w):
    """w reversed on every spatial axis."""
    return np.ascontiguousarray(w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)])


def conv_flipped(x, w, b=None, **kw):
    """True convolution instead of the CNN layer's cross-correlation (the kernel flipped)."""
    return nb.conv(x, _flip(w), b, **kw)


def conv_channels_reversed(x, w, b=None, **kw):
    """Reads the input channels in reverse order."""
    return nb.conv(np.ascontiguousarray(x[:, ::-1]), w, b, **kw)


def conv_drops_last_channel(x, w, b=None, **kw):
    """Forgets the last input channel of every group (when there is more than one)."""
    if x.shape[1] > 1 and kw.get("groups", 1) == 1:
        x = x.copy()
        x[:, -1] = 0
    return nb.conv(x, w, b, **kw)


def conv_pads_1x1(x, w, b=None, **kw):
    """Pads by one on every side when the kernel is 1x1 (a 'same'-by-default fast path)."""
    if all(k == 1 for k in w.shape[2:]):
        kw = {**kw, "padding": 1}
    return nb.conv(x, w, b, **kw)


def conv_pairs_swapped(x, w, b=None, *, padding=0, **kw):
    """(before, after) read as (after, before)."""
    if isinstance(padding, (tuple, list)) and any(isinstance(p, (tuple, list)) for p in padding):
        padding = tuple((p[1], p[0]) if isinstance(p, (tuple, list)) else p for p in padding)
    return nb.conv(x, w, b, padding=padding, **kw)


def conv_same_extra_at_start(x, w, b=None, *, padding=0, dilation=1, **kw):
    """padding='same' with the extra element of an even kernel at the start (TF-style for odd totals)."""
    if padding == "same":
        d = nb.ntuple(dilation, w.ndim - 2)
        tot = [dd * (k - 1) for k, dd in zip(w.shape[2:], d)]
        padding = tuple((t - t // 2, t // 2) for t in tot)
    return nb.conv(x, w, b, padding=padding, dilation=dilation, **kw)


def conv_reflect_as_symmetric(x, w, b=None, *, padding_mode="zeros", padding=0, **kw):
    """padding_mode='reflect' implemented as np.pad(mode='symmetric') (the edge repeated)."""
    if padding_mode == "reflect":
        pads = nb.pad_pairs(padding, w.shape[2:], kw.get("dilation", 1))
        x = np.pad(x, ((0, 0), (0, 0), *pads), mode="symmetric")
        return nb.conv(x, w, b, padding=0, **kw)
    return nb.conv(x, w, b, padding=padding, padding_mode=padding_mode, **kw)


def transpose_forgets_flip(x, w, b=None, **kw):
    return nb.conv_transpose(x, _flip(w), b, **kw)


def transpose_output_padding_wrong_side(x, w, b=None, *, output_padding=0, **kw):
    """The extra output rows of output_padding added at the start instead of the end."""
    y = nb.conv_transpose(x, w, b, output_padding=output_padding, **kw)
    op = nb.ntuple(output_padding, w.ndim - 2)
    return np.ascontiguousarray(np.roll(y, shift=op, axis=tuple(range(2, y.ndim))))


def input_grad_forgets_flip(input_shape, w, grad_out, **kw):
    return nb.conv_input(input_shape, _flip(w), grad_out, **kw)


def weight_grad_batch_not_summed(x, weight_shape, grad_out, **kw):
    """Only the first batch element's contribution."""
    return nb.conv_weight(np.ascontiguousarray(x[:1]), weight_shape, np.ascontiguousarray(grad_out[:1]), **kw)


def _bias_reversed(fn):
    def conv(x, w, b=None, **kw):
        y = fn(x, w, None, **kw)
        return y if b is None else y + b.flip(0).reshape((1, -1) + (1,) * (y.dim() - 2))
    return conv


class _FakeF:
    def __init__(self, **over):
        self.over = over

    def __getattr__(self, name):
        return self.over.get(name) or getattr(TF, name)


def _numpy_with(name, kind_fn: dict, caps=None):
    """The numpy backend with the ops of each kind ('conv', 'transpose', 'input', 'weight') replaced in every rank."""
    base = backends.get("numpy")
    ops = dict(base.ops)
    names = {"conv": "conv{}d", "transpose": "conv_transpose{}d", "input": "conv{}d_input", "weight": "conv{}d_weight"}
    for kind, fn in kind_fn.items():
        for r in RANKS:
            ops[names[kind].format(r)] = fn
    return lambda: Backend(name, ops, caps or base.caps, origin="selftest")


_BY_ID = {
    "conv2d-matches-definition": _numpy_with("conv-flipped", {"conv": conv_flipped}),
    "im2col-matmul": _numpy_with("conv-flipped", {"conv": conv_flipped}),
    "fc-layer-is-whole-input-conv": _numpy_with("conv-flipped", {"conv": conv_flipped}),
    "conv-is-sum-of-channel-correlations": _numpy_with("drops-last-channel", {"conv": conv_drops_last_channel}),
    "1x1-conv-is-channel-matmul": _numpy_with("channels-reversed", {"conv": conv_channels_reversed}),
    "1x1-conv-keeps-height-width": _numpy_with("pads-1x1", {"conv": conv_pads_1x1}),
    "conv2d-padding-pairs-are-np-pad": _numpy_with("pairs-swapped", {"conv": conv_pairs_swapped}),
    "conv2d-same-padding-keeps-size": _numpy_with("same-extra-at-start", {"conv": conv_same_extra_at_start}),
    "conv2d-padding-mode-is-np-pad": _numpy_with("reflect-as-symmetric", {"conv": conv_reflect_as_symmetric}),
    "conv-transpose2d-matches-definition": _numpy_with("transpose-forgets-flip", {"transpose": transpose_forgets_flip}),
    "conv-transpose2d-is-adjoint-of-conv2d": _numpy_with("transpose-forgets-flip",
                                                        {"transpose": transpose_forgets_flip}),
    "conv-transpose2d-is-conv2d-input": _numpy_with("transpose-op-wrong-side",
                                                    {"transpose": transpose_output_padding_wrong_side}),
    "conv2d-input-matches-definition": _numpy_with("input-grad-forgets-flip", {"input": input_grad_forgets_flip}),
    "conv2d-weight-matches-definition": _numpy_with("weight-batch-not-summed", {"weight": weight_grad_batch_not_summed}),
    "conv2d-weight-is-correlation-of-input-and-grad": _numpy_with("weight-batch-not-summed",
                                                                  {"weight": weight_grad_batch_not_summed}),
}


def _bias_twin():
    base = backends.get("torch")
    fake = _FakeF(conv1d=_bias_reversed(TF.conv1d), conv2d=_bias_reversed(TF.conv2d),
                  conv3d=_bias_reversed(TF.conv3d))
    return Backend("bias-reversed", {**base.ops, "torch.F": fake}, base.caps, origin="selftest")


_BY_ID["conv2d-bias-grad-is-sum"] = _bias_twin

def _fp32_then_round(fn):
    """F.conv{r}d that computes half-precision inputs in float32 and rounds the result once (so its autograd
    gradients accumulate in fp32 and round once too)."""
    def conv(x, w, b=None, **kw):
        if x.dtype in (torch.float16, torch.bfloat16):
            return fn(x.float(), w.float(), None if b is None else b.float(), **kw).to(x.dtype)
        return fn(x, w, b, **kw)
    return conv


def _rounds_once_twin():
    base = backends.get("torch")
    fake = _FakeF(conv1d=_fp32_then_round(TF.conv1d), conv2d=_fp32_then_round(TF.conv2d),
                  conv3d=_fp32_then_round(TF.conv3d))
    return Backend("half-grads-in-fp32", {**base.ops, "torch.F": fake}, base.caps, origin="selftest")


#: the 1-D and 3-D variants (the 2-D ids keep the twins they had); conv2d-padding-pairs-are-np-pad is new in 2-D too
register({ranked(cid, r): twin for cid, twin in _BY_ID.items() for r in RANKS
          if (r != 2 or cid == "conv2d-padding-pairs-are-np-pad") and ranked(cid, r) in REGISTRY})
