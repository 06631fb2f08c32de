"""JAX/XLA (CPU): ``jax.lax.conv_general_dilated`` for every conv of the contract, gradients by ``jax.vjp``.

Math, per op (torch's semantics, NCHW/OIHW, which are also lax's default dimension numbers):

* conv{r}d: ``lax.conv_general_dilated(x, w, window_strides=s, padding=((lo, hi), ...), rhs_dilation=d,
  feature_group_count=G)`` is y[n, o, i] = sum_{c, u} x[n, g C/G + c, i s + u d - lo] w[o, c, u] (zero fill);
  the bias is added afterwards (lax has none).  'valid'/'same' go to lax as 'VALID'/'SAME' (lax splits an odd
  total padding with the extra element at the end, as torch does).
* conv_transpose{r}d: the adjoint of the conv, written as lax writes it: the input dilated by the stride
  (``lhs_dilation=s``), padded by d (k - 1) - p before and d (k - 1) - p + output_padding after, and
  correlated with the kernel flipped in space and with its two channel axes swapped within each group
  (w: (C_in, C_out/G, k) -> (C_out, C_in/G, flip k)).
* conv{r}d_input / conv{r}d_weight: ``jax.vjp`` of the conv with respect to x / w, at grad_out.
* convolve2d / correlate2d: ``jax.scipy.signal.convolve2d`` / ``correlate2d``.

float64 needs ``jax_enable_x64`` (set here, process-wide: the module runs in its own worker).
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.scipy.signal as jsig  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from .._util import ntuple, pad_pairs, transpose_params  # noqa: E402

NAME = "jax-lax"
__version__ = jax.__version__
CAPABILITIES = {"dtypes": ["f64", "f32", "bf16"], "groups": True, "stride": None, "dilation": None,
                "padding_pairs": True, "padding_strings": True, "timeout": 120}

# DEPARTURES: filled in below from what convspec found (read with ast.literal_eval)
DEPARTURES = {}


def _a(v):
    """An input array as a jax array on a private copy (any memory layout, read-only or not)."""
    return None if v is None else jnp.asarray(np.array(v, copy=True, order="C"))


def _out(y):
    return np.array(y, copy=True)


def _conv(x, w, stride, padding, dilation, groups):
    r = x.ndim - 2
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int or a tuple")
        pads = padding.upper()
    else:
        pads = pad_pairs(padding, w.shape[2:], d)
    return lax.conv_general_dilated(x, w, window_strides=s, padding=pads, rhs_dilation=d,
                                    feature_group_count=int(groups))


def _bias(y, b):
    return y if b is None else y + b.reshape((1, -1) + (1,) * (y.ndim - 2)).astype(y.dtype)


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """lax.conv_general_dilated, then + b."""
    return _out(_bias(_conv(_a(x), _a(w), stride, padding, dilation, groups), _a(b)))


conv1d = conv2d = conv3d = conv


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """lax.conv_general_dilated with lhs_dilation = stride on the group-swapped, flipped kernel."""
    s, p, op, d = transpose_params(w, stride, padding, output_padding, dilation)
    x, w = _a(x), _a(w)
    ci, cog, *k = w.shape
    g = int(groups)
    wk = w.reshape((g, ci // g, cog, *k)).swapaxes(1, 2).reshape((g * cog, ci // g, *k))
    wk = jnp.flip(wk, axis=tuple(range(2, 2 + len(k))))
    pads = [(dd * (kk - 1) - pp, dd * (kk - 1) - pp + oo) for kk, pp, oo, dd in zip(k, p, op, d)]
    y = lax.conv_general_dilated(x, wk, window_strides=(1,) * len(k), padding=pads, lhs_dilation=s,
                                 rhs_dilation=d, feature_group_count=g)
    return _out(_bias(y, _a(b)))


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """jax.vjp of x -> conv(x, w) at grad_out."""
    w, go = _a(w), _a(grad_out)
    x0 = jnp.zeros(tuple(int(v) for v in input_shape), go.dtype)
    _, vjp = jax.vjp(lambda x: _conv(x, w.astype(go.dtype), stride, padding, dilation, groups), x0)
    return _out(vjp(go)[0])


conv1d_input = conv2d_input = conv3d_input = conv_input


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """jax.vjp of w -> conv(x, w) at grad_out."""
    x, go = _a(x), _a(grad_out)
    w0 = jnp.zeros(tuple(int(v) for v in weight_shape), go.dtype)
    _, vjp = jax.vjp(lambda w: _conv(x.astype(go.dtype), w, stride, padding, dilation, groups), w0)
    return _out(vjp(go)[0])


conv1d_weight = conv2d_weight = conv3d_weight = conv_weight


def convolve2d(a, k, mode="full"):
    """jax.scipy.signal.convolve2d."""
    return _out(jsig.convolve2d(_a(a), _a(k), mode=mode))


def correlate2d(a, k, mode="full"):
    """jax.scipy.signal.correlate2d."""
    return _out(jsig.correlate2d(_a(a), _a(k), mode=mode))
