"""JAX/XLA (CPU): ``jax.lax.conv_general_dilated`` for every conv of the contract, gradients by ``jax.vjp``.

Math, per op (torch's semantics, NCHW/OIHW, which are also lax's default dimension numbers):

* conv{r}d: ``lax.conv_general_dilated(x, w, window_strides=s, padding=((lo, hi), ...), rhs_dilation=d,
  feature_group_count=G)`` is y[n, o, i] = sum_{c, u} x[n, g C/G + c, i s + u d - lo] w[o, c, u] (zero fill);
  the bias is added afterwards (lax has none).  bfloat16 data: ``preferred_element_type=float32`` (a float32
  accumulator and result), the bias added in float32 and the sum rounded once to bfloat16 -- the contract's
  model.  (Adding the bias to a bfloat16 conv result, as a Flax-style layer does, rounds twice.)  'valid'/'same' go to lax as 'VALID'/'SAME' (lax splits an odd
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

from convspec.backends._util import ntuple, pad_pairs, transpose_params  # noqa: E402

NAME = "jax-lax"
__version__ = jax.__version__
CAPABILITIES = {"dtypes": ["f64", "f32", "bf16"], "groups": True, "stride": None, "dilation": None,
                "padding_pairs": True, "padding_strings": True, "timeout": 120}

DEPARTURES = {   # a literal dict (read with ast.literal_eval by convspec.reporting.findings, never by importing)
    "grouped-conv-groups-are-independent": {
        "statement": "XLA's CPU float64 grouped conv (feature_group_count > 1) lets a NaN or Inf in one group's "
                     "input reach the other groups' outputs at the same position, as if the groups were one dense "
                     "conv with zeros off the group blocks (0 * NaN = NaN); float32 keeps the groups apart",
        "source": "found by convspec",
        "upstream": "none found: searched jax-ml/jax and openxla/xla issues for 'feature_group_count float64 NaN', "
                    "'grouped convolution NaN leaks into other group', 'convolution group converter NaN Inf'",
        "observed": "group 1 output [nan, 0.0]", "expected": "[0.0, 0.0]",
        "counterexample": "n1c2h1w2_o2k1x1_s1x1_p0x0_d1x1_g2_nobias_f64_int (x[0, 0, 0, 0] = NaN)",
        "repro": "docs/repros/jax_lax_group_nan.py",
    },
    "convolution-is-flipped-correlation": "convolve2d-matches-definition",
    "full-convolution-commutes": "convolve2d-matches-definition",
    "correlation-swap-is-rot180": "convolve2d-matches-definition",
    "convolve2d-matches-definition": {
        "statement": "jax.scipy.signal.convolve2d/correlate2d raise 'One input must be smaller than the other in "
                     "every dimension' in every mode; scipy.signal requires that in mode 'valid' only",
        "source": "found by convspec",
        "upstream": "none found: searched jax-ml/jax issues for 'convolve2d One input must be smaller than the other'"
                    "; closest: scipy/scipy#5897 (closed; scipy's own shape rule, relaxed to 'valid' only)",
        "observed": "ValueError: One input must be smaller than the other in every dimension.",
        "expected": "[[1.0, 3.0], [2.0, 6.0]] (scipy.signal.convolve2d)",
        "counterexample": "a2x1_k1x2_full_f64_int",
        "repro": "docs/repros/jax_lax_convolve2d_shapes.py",
    },
    "convolve2d-crosses-seams": "convolve2d-matches-definition",
    "correlate2d-crosses-seams": "convolve2d-matches-definition",
    "flipped-correlation-same-mode": "convolve2d-matches-definition",
    "correlation-commutes": "convolve2d-matches-definition",
    "correlate2d-matches-definition": "convolve2d-matches-definition",
    "convolve2d-accepts-every-layout": "convolve2d-matches-definition",
    "correlate2d-accepts-every-layout": "convolve2d-matches-definition",
    "signal-ops-propagate-nan": "convolve2d-matches-definition",
}


def _a(v):
    """An input array as a jax array on a private copy (any memory layout, read-only or not)."""
    return None if v is None else jnp.asarray(np.array(v, copy=True, order="C"))


def _out(y):
    return np.array(y, copy=True)


def _acc(dtype):
    """``preferred_element_type`` of a conv on ``dtype`` data: float32 for the half formats (lax's documented way
    to ask for a float32 accumulator and result), None (the input's type) otherwise."""
    return jnp.float32 if jnp.dtype(dtype).itemsize < 4 else None


def _conv(x, w, stride, padding, dilation, groups, acc=None):
    r = x.ndim - 2
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int or a tuple")
        pads = padding.upper()
    else:
        pads = pad_pairs(padding, w.shape[2:], d)
    return lax.conv_general_dilated(x, w, window_strides=s, padding=pads, rhs_dilation=d,
                                    feature_group_count=int(groups), preferred_element_type=acc)


def _bias(y, b, dtype):
    """y + b in y's (accumulator) type, then rounded once to ``dtype``."""
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * (y.ndim - 2)).astype(y.dtype)
    return y.astype(dtype)


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """lax.conv_general_dilated (float32 accumulation and result for half data), + b, rounded once."""
    x = _a(x)
    return _out(_bias(_conv(x, _a(w), stride, padding, dilation, groups, _acc(x.dtype)), _a(b), x.dtype))


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
                                 rhs_dilation=d, feature_group_count=g, preferred_element_type=_acc(x.dtype))
    return _out(_bias(y, _a(b), x.dtype))


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
