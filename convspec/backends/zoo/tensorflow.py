"""TensorFlow CPU (``tf.nn.conv1d/2d/3d``, ``tf.nn.depthwise_conv2d``, ``tf.nn.conv{1,2,3}d_transpose``) as an
``--impl`` module.

TensorFlow is channels last: the module declares ``layout`` NHWC and ``weight_layout`` HWIO, so it receives
x (N, *L, C_in), w (*k, C_in/groups, C_out) -- (*k, C_out/groups, C_in) for the transposed convs, TF's own
``conv_transpose`` filter layout -- and returns (N, *L_out, C_out); :mod:`convspec.model.layout` maps both ways.

* conv{r}d(x, w) = ``tf.nn.conv{r}d`` (cross-correlation); a grouped conv is TF's implicit grouping (the
  filter's input depth divides the input's); groups == C_in > 1 on 2-D data goes to ``tf.nn.depthwise_conv2d``
  with the filter (kH, kW, C_in, C_out/C_in) (output channel c*M + m, torch's grouped order).  Padding:
  'valid'/'same' as TF's 'VALID'/'SAME' (stride 1: TF puts the odd element after, as the contract);
  integers and pairs as conv2d's explicit list ``[[0, 0], (before, after)..., [0, 0]]``; ``tf.nn.conv1d`` and
  ``tf.nn.conv3d`` take no explicit list, so there the adapter zero-pads with ``tf.pad`` and calls 'VALID'.
* conv_transpose{r}d = ``tf.nn.conv{r}d_transpose`` with the contract's output shape
  ((L - 1) s - 2 p + d (k - 1) + output_padding + 1); 2-D takes the explicit padding list, 1-D/3-D take
  only strings, so there it is 'VALID' on the uncropped length and the adapter crops p off each end.
* conv{r}d_input / conv{r}d_weight = ``tf.GradientTape`` over ``tf.nn.conv{r}d`` with ``output_gradients``.

The CPU kernels refuse some valid problems with an InvalidArgumentError, which the module lets through
(measured, TF 2.21 CPU): Conv3D with dilation > 1 ("CPU implementation of Conv3D currently only supports
dilated rates of 1") or groups > 1 ("Number of channels in filter ... must match"); conv2d_transpose with
dilation > 1 or groups > 1.  See OP_LIMITS and the report.

Sources: https://www.tensorflow.org/api_docs/python/tf/nn/conv2d (explicit padding, implicit groups),
https://www.tensorflow.org/api_docs/python/tf/nn/depthwise_conv2d,
https://www.tensorflow.org/api_docs/python/tf/nn/conv2d_transpose.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convspec.backends._util import ntuple, pad_pairs  # noqa: E402

NAME = "zoo-tensorflow"
__version__ = tf.__version__

CAPABILITIES = {
    "dtypes": ["f64", "f32"],
    "groups": True, "stride": None, "dilation": None,
    "padding_pairs": True, "padding_strings": True,
    "layout": "NHWC", "weight_layout": "HWIO",
    "timeout": 120,
}

#: what the CPU kernels refuse (an InvalidArgumentError), per op: the capability the lead's per-op limits need
OP_LIMITS = {
    "conv3d": {"groups": False, "dilation": 1}, "conv3d_input": {"groups": False, "dilation": 1},
    "conv3d_weight": {"groups": False, "dilation": 1},
    "conv_transpose1d": {"groups": False, "dilation": 1}, "conv_transpose2d": {"groups": False, "dilation": 1},
    "conv_transpose3d": {"groups": False, "dilation": 1},
    # "Gradients for grouped convolutions are not supported on CPU" (Conv2DBackpropInput/Filter); the depthwise
    # path of rank 2 has gradients of its own
    # and "Current CPU implementations do not yet support dilation rates larger than 1" (the same kernels)
    "conv1d_input": {"groups": False, "dilation": 1}, "conv1d_weight": {"groups": False, "dilation": 1},
    "conv2d_input": {"groups": "depthwise", "dilation": "depthwise"},
    "conv2d_weight": {"groups": "depthwise", "dilation": "depthwise"},
}

#: departures of TensorFlow from the contract, found by convspec (see docs/repros/tensorflow_*.py)
DEPARTURES = {
    "conv2d-matches-definition": {
        "statement": "tf.nn.depthwise_conv2d (the path of groups == C_in) with a stride > 1 together with a dilation > 1 "
                     "only warns (UserWarning) and returns another computation: wrong values, or a wrong shape",
        "source": "https://www.tensorflow.org/api_docs/python/tf/nn/depthwise_conv2d",
        "upstream": "https://github.com/tensorflow/tensorflow/issues/100237 (open)",
        "observed": "x 1x7x7x1, k 2x2, stride 2, dilation 2: [[0, -5, -5], [5, 5, -5], [5, -5, 5]]; stride 3: shape 1x1",
        "expected": "[[0, 5, -5], [-5, -5, 5], [5, 0, 5]]; stride 3: shape 2x2 (tf.nn.conv2d gives both)",
        "counterexample": "n1c2h5w5_o2k2x2_s2x2_p0x0_d2x2_g2_nobias_f32_int (groups == C_in > 1, stride 2, dilation 2)",
        "repro": "docs/repros/tensorflow_depthwise_stride_dilation.py",
    },
    "conv2d-input-matches-definition": {
        "statement": "tf.nn.depthwise_conv2d (the path of groups == C_in) with a stride > 1 together with a dilation > 1 "
                     "only warns (UserWarning) and returns another computation: wrong values, or a wrong shape"
                     "; its gradient (tf.GradientTape) with it",
        "source": "https://www.tensorflow.org/api_docs/python/tf/nn/depthwise_conv2d",
        "upstream": "https://github.com/tensorflow/tensorflow/issues/100237 (open)",
        "observed": "x 1x7x7x1, k 2x2, stride 2, dilation 2: [[0, -5, -5], [5, 5, -5], [5, -5, 5]]; stride 3: shape 1x1",
        "expected": "[[0, 5, -5], [-5, -5, 5], [5, 0, 5]]; stride 3: shape 2x2 (tf.nn.conv2d gives both)",
        "counterexample": "n1c2h5w5_o2k2x2_s2x2_p0x0_d2x2_g2_nobias_f32_int (groups == C_in > 1, stride 2, dilation 2)",
        "pins": ["tn1c2h2w2_o2k2x2_s2x2_p0x0_op0x0_d2x2_g2_nobias_f32_int"],   # the gradient's problem (its transpose)
        "repro": "docs/repros/tensorflow_depthwise_stride_dilation.py",
    },
    "conv2d-weight-matches-definition": {
        "statement": "tf.nn.depthwise_conv2d (the path of groups == C_in) with a stride > 1 together with a dilation > 1 "
                     "only warns (UserWarning) and returns another computation: wrong values, or a wrong shape"
                     "; its gradient (tf.GradientTape) with it",
        "source": "https://www.tensorflow.org/api_docs/python/tf/nn/depthwise_conv2d",
        "upstream": "https://github.com/tensorflow/tensorflow/issues/100237 (open)",
        "observed": "x 1x7x7x1, k 2x2, stride 2, dilation 2: [[0, -5, -5], [5, 5, -5], [5, -5, 5]]; stride 3: shape 1x1",
        "expected": "[[0, 5, -5], [-5, -5, 5], [5, 0, 5]]; stride 3: shape 2x2 (tf.nn.conv2d gives both)",
        "counterexample": "n1c2h5w5_o2k2x2_s2x2_p0x0_d2x2_g2_nobias_f32_int (groups == C_in > 1, stride 2, dilation 2)",
        "pins": ["tn1c2h2w2_o2k2x2_s2x2_p0x0_op0x0_d2x2_g2_nobias_f32_int"],   # the gradient's problem (its transpose)
        "repro": "docs/repros/tensorflow_depthwise_stride_dilation.py",
    },
    "output-is-filter-dot-receptive-field": "conv2d-matches-definition",
    "im2col-matmul": "conv2d-matches-definition",
    "conv2d-crosses-seams": "conv2d-matches-definition",
    "conv2d-padding-pairs-are-np-pad": "conv2d-matches-definition",
    "conv2d-nhwc-is-nchw-transposed": "conv2d-matches-definition",
    "conv2d-propagates-special-values": "conv2d-matches-definition",
}

_CONV = {1: tf.nn.conv1d, 2: tf.nn.conv2d, 3: tf.nn.conv3d}
_TCONV = {1: tf.nn.conv1d_transpose, 2: tf.nn.conv2d_transpose, 3: tf.nn.conv3d_transpose}


def _t(a):
    """A TF constant on a copy of ``a`` (bfloat16 arrays included: TF reads ml_dtypes' bfloat16)."""
    return None if a is None else tf.constant(np.array(a, order="C", copy=True))


def _np(t) -> np.ndarray:
    return np.array(t.numpy(), copy=True)


def _ones(v, r):
    """TF's full-rank strides/dilations list [1, v..., 1] (conv3d wants rank + 2 entries)."""
    return [1, *v, 1]


def _forward(xt, wt, r, s, d, groups, padding):
    """The forward conv on TF tensors (channels last); ``padding`` a string or ((before, after), ...)."""
    cin = int(xt.shape[-1])
    if not isinstance(padding, str):
        if r == 2:
            padding = [[0, 0], *[list(p) for p in padding], [0, 0]]
        elif any(lo or hi for lo, hi in padding):
            xt, padding = tf.pad(xt, [[0, 0], *[list(p) for p in padding], [0, 0]]), "VALID"
        else:
            padding = "VALID"
    if r == 2 and groups > 1 and groups == cin and s[0] == s[1]:
        # depthwise_conv2d's CPU kernel takes equal strides only ("Current implementation only supports equal
        # length strides in the row and column dimensions"): other strides take the grouped conv2d below
        kh, kw, _, o = wt.shape
        wd = tf.reshape(wt, (kh, kw, cin, o // cin))
        return tf.nn.depthwise_conv2d(xt, wd, _ones(s, r), padding, dilations=list(d))
    if r == 3:
        return tf.nn.conv3d(xt, wt, _ones(s, r), padding, dilations=_ones(d, r))
    return _CONV[r](xt, wt, list(s), padding, dilations=list(d))


def _padding(padding, kernel, d):
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int or a tuple")
        return padding.upper()
    return pad_pairs(padding, kernel, d)


def _decline(op: str, groups, d, depthwise: bool = False) -> None:
    """TF's CPU kernels refuse these valid problems (InvalidArgumentError, :data:`OP_LIMITS`): the adapter declines
    them with NotImplementedError, so the gate reports them as regions not covered instead of failures.
    ``"depthwise"``: groups > 1 (dilation > 1) only on the depthwise path (``depthwise``)."""
    lim = OP_LIMITS.get(op)
    if not lim:
        return
    g = lim.get("groups", True)
    if int(groups) > 1 and (g is False or (g == "depthwise" and not depthwise)):
        raise NotImplementedError(f"TensorFlow's CPU {op} takes no groups > 1 here (groups={int(groups)}"
                                  + (", not depthwise)" if g == "depthwise" else ")"))
    dl = lim.get("dilation")
    if dl is not None and max(d) > 1 and (dl == 1 or (dl == "depthwise" and not depthwise)):
        raise NotImplementedError(f"TensorFlow's CPU {op} takes no dilation > 1 here (dilation={tuple(d)}"
                                  + (", not depthwise)" if dl == "depthwise" else ")"))


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """tf.nn.conv{r}d / depthwise_conv2d on channels-last x and HWIO w; the bias by tf.nn.bias_add."""
    r = np.ndim(w) - 2
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    _decline(f"conv{r}d", groups, d)
    y = _forward(_t(x), _t(w), r, s, d, int(groups), _padding(padding, np.shape(w)[:r], d))
    if b is not None:
        y = tf.nn.bias_add(y, _t(b))
    return _np(y)


conv1d = conv2d = conv3d = conv


def _sym(padding, kernel, d):
    pads = pad_pairs(padding, kernel, d)
    if any(lo != hi for lo, hi in pads):
        raise ValueError(f"padding={padding!r}: a transposed conv takes one padding per axis")
    return tuple(lo for lo, _ in pads)


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """tf.nn.conv{r}d_transpose on channels-last x and w (*k, C_out/groups, C_in)."""
    r = np.ndim(w) - 2
    k = np.shape(w)[:r]
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    _decline(f"conv_transpose{r}d", groups, d)
    op = ntuple(output_padding, r, "output_padding")
    p = _sym(padding, k, d)
    n, *L, _ = np.shape(x)
    cout = int(np.shape(w)[r]) * int(groups)
    full = [(li - 1) * si + di * (ki - 1) + opi + 1 for li, si, di, ki, opi in zip(L, s, d, k, op)]
    xt, wt = _t(x), _t(w)
    if r == 2:
        out = [fi - 2 * pi for fi, pi in zip(full, p)]
        y = tf.nn.conv2d_transpose(xt, wt, [n, *out, cout], list(s), [[0, 0], *[[pi, pi] for pi in p], [0, 0]],
                                   dilations=list(d))
    else:
        y = _TCONV[r](xt, wt, [n, *full, cout], _ones(s, r) if r == 3 else list(s), "VALID",
                      dilations=_ones(d, r) if r == 3 else list(d))
        y = y[(slice(None), *[slice(pi, fi - pi) for pi, fi in zip(p, full)], slice(None))]
    if b is not None:
        y = tf.nn.bias_add(y, _t(b))
    return _np(y)


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose


def _grad(x, w, grad_out, wrt, stride, padding, dilation, groups):
    r = np.ndim(w) - 2
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    # the forward takes tf.nn.depthwise_conv2d (which has gradients on CPU) for groups == C_in at rank 2, equal strides
    _decline(f"conv{r}d_{wrt}", groups, d, depthwise=r == 2 and 1 < int(groups) == np.shape(x)[-1] and s[0] == s[1])
    pads = pad_pairs(padding, np.shape(w)[:r], d)
    xt, wt = tf.Variable(_t(x)), tf.Variable(_t(w))
    with tf.GradientTape() as tape:
        y = _forward(xt, wt, r, s, d, int(groups), pads)
    return _np(tape.gradient(y, xt if wrt == "input" else wt, output_gradients=_t(grad_out)))


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv(x, w), grad_out>/dx by tf.GradientTape (x's values do not matter: zeros)."""
    x = np.zeros(tuple(int(v) for v in input_shape), dtype=np.asarray(grad_out).dtype)
    return _grad(x, w, grad_out, "input", stride, padding, dilation, groups)


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv(x, w), grad_out>/dw by tf.GradientTape (w's values do not matter: zeros)."""
    w = np.zeros(tuple(int(v) for v in weight_shape), dtype=np.asarray(grad_out).dtype)
    return _grad(x, w, grad_out, "weight", stride, padding, dilation, groups)


conv1d_input = conv2d_input = conv3d_input = conv_input
conv1d_weight = conv2d_weight = conv3d_weight = conv_weight
