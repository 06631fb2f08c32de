"""Helpers of the twins: a built-in backend with some ops replaced, torch.nn.functional with some functions
replaced, the numpy backend with one kind of conv op replaced in every rank."""

from __future__ import annotations

import torch.nn.functional as TF

from convspec.backends import registry as backends
from convspec.backends.base import Backend
from convspec.model.ops import RANKS


def with_ops(base: str, name: str, caps=None, **ops) -> Backend:
    """The built-in backend ``base`` with some ops replaced, named ``name``."""
    b = backends.get(base)
    return Backend(name, {**b.ops, **ops}, caps or b.caps, origin="selftest")


class FakeF:
    """torch.nn.functional with some functions replaced."""

    def __init__(self, **over):
        self.over = over

    def __getattr__(self, name):
        return self.over.get(name) or getattr(TF, name)


def torch_with_F(name: str, **over) -> Backend:
    """The torch backend whose ``torch.F`` op (torch.nn.functional) has some functions replaced."""
    return with_ops("torch", name, **{"torch.F": FakeF(**over)})


def torch_conv(x, w, b=None, **kw):
    """The torch backend's conv2d (numpy in, numpy out)."""
    return backends.get("torch").op("conv2d")(x, w, b, **kw)


def numpy_with(name: str, kind_fn: dict, caps=None) -> Backend:
    """The numpy backend with the ops of each kind ('conv', 'transpose', 'input', 'weight') replaced in every rank."""
    base = backends.get("numpy")
    ops = dict(base.ops)
    names = {"conv": "conv{}d", "transpose": "conv_transpose{}d", "input": "conv{}d_input", "weight": "conv{}d_weight"}
    for kind, fn in kind_fn.items():
        for r in RANKS:
            ops[names[kind].format(r)] = fn
    return Backend(name, ops, caps or base.caps, origin="selftest")
