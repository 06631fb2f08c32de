"""tinygrad (``Tensor.conv2d`` / ``Tensor.conv_transpose2d``, any spatial rank) as an ``--impl`` module.

tinygrad's ``Tensor.conv2d`` is rank-generic: x (N, C_in, *L), w (C_out, C_in/groups, *k), torch's
cross-correlation, ``groups``/``stride``/``dilation`` per axis, and ``padding`` as one int, one int per axis
or 2r ints ``(before, after)`` *last axis first* (torch's ``F.pad`` order).  ``conv_transpose2d`` is the
same rank-generic op with torch's transposed-conv semantics (weight (C_in, C_out/groups, *k)): tinygrad
writes it as a conv of the zero-stuffed input with the flipped, regrouped kernel.  The gradients are
tinygrad's own autograd (``Tensor.gradient``) of ``conv2d`` against ``grad_out``.

Device: tinygrad's ``CPU`` device, which compiles every kernel with ``clang`` (``apt-get install clang``;
without it tinygrad finds "no usable devices").  The first call of each shape compiles, hence the long
timeout.  Sources: tinygrad/tensor.py (``Tensor.conv2d``, ``conv_transpose2d``, their docstrings),
https://docs.tinygrad.org/tensor/ops/.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import tinygrad
from tinygrad import Tensor

from convspec.backends._util import ntuple, pad_pairs, transpose_params

NAME = "zoo-tinygrad"
__version__ = importlib.metadata.version("tinygrad")
assert tinygrad.Tensor is Tensor

CAPABILITIES = {
    "dtypes": ["f64", "f32"],
    "groups": True, "stride": None, "dilation": None,
    "padding_pairs": True,
    "timeout": 180,
}

#: departures of tinygrad from the contract, found by convspec (see docs/repros/tinygrad_*.py)
DEPARTURES: dict = {}


def _t(a):
    """A tinygrad Tensor on a C-contiguous copy of ``a`` (tinygrad keeps no reference to the array)."""
    return None if a is None else Tensor(np.array(a, order="C", copy=True))


def _np(t):
    return t.numpy()


def _flat(pads):
    """((before, after), ...) in axis order -> tinygrad's flat 2r list, last axis first."""
    return [v for lo, hi in reversed(pads) for v in (lo, hi)]


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """``Tensor.conv2d`` of any rank; padding goes in as tinygrad's explicit 2r-int form."""
    r = np.ndim(w) - 2
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    pads = pad_pairs(padding, np.shape(w)[2:], d)
    return _np(_t(x).conv2d(_t(w), _t(b), groups=int(groups), stride=s, dilation=d, padding=_flat(pads)))


conv1d = conv2d = conv3d = conv


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """``Tensor.conv_transpose2d`` of any rank (torch's semantics)."""
    s, p, op, d = transpose_params(w, stride, padding, output_padding, dilation)
    return _np(_t(x).conv_transpose2d(_t(w), _t(b), groups=int(groups), stride=s, dilation=d, padding=p,
                                      output_padding=op))


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose


def _grad(x, w, grad_out, wrt, stride, padding, dilation, groups):
    s, p, _, d = transpose_params(w, stride, padding, 0, dilation)
    xt, wt = _t(x), _t(w)
    xt.requires_grad, wt.requires_grad = wrt == "input", wrt == "weight"
    y = xt.conv2d(wt, groups=int(groups), stride=s, dilation=d, padding=p)
    (g,) = y.gradient(xt if wrt == "input" else wt, gradient=_t(grad_out))
    return _np(g)


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv(x, w), grad_out>/dx by tinygrad's autograd (x's values do not matter: zeros)."""
    x = np.zeros(tuple(int(v) for v in input_shape), dtype=np.asarray(grad_out).dtype)
    return _grad(x, w, grad_out, "input", stride, padding, dilation, groups)


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv(x, w), grad_out>/dw by tinygrad's autograd (w's values do not matter: zeros)."""
    w = np.zeros(tuple(int(v) for v in weight_shape), dtype=np.asarray(grad_out).dtype)
    return _grad(x, w, grad_out, "weight", stride, padding, dilation, groups)


conv1d_input = conv2d_input = conv3d_input = conv_input
conv1d_weight = conv2d_weight = conv3d_weight = conv_weight
