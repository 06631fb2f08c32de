"""PaddlePaddle CPU (``paddle.nn.functional.conv{1,2,3}d``, ``conv{1,2,3}d_transpose``, ``paddle.grad``) as an
``--impl`` module.

Paddle's functional convs take the contract's layouts (NCHW data, weight (C_out, C_in/groups, *k); the
transposed convs (C_in, C_out/groups, *k)) and torch's cross-correlation with ``stride``, ``dilation``,
``groups`` and ``padding`` as an int, one int per axis, 'SAME'/'VALID', or explicit (before, after) pairs
given as ``[[0, 0], [0, 0], [before, after]...]`` (the batch and channel axes first).  The transposed convs
take one int per axis and ``output_padding``.  The gradients are Paddle's autograd (``paddle.grad`` of the
conv against ``grad_outputs``).

Sources: https://www.paddlepaddle.org.cn/documentation/docs/en/api/paddle/nn/functional/conv2d_en.html,
.../conv2d_transpose_en.html, .../paddle/grad_en.html.
"""

from __future__ import annotations

import os

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.nn.functional as F  # noqa: E402

from convspec.backends._util import ntuple, pad_pairs, transpose_params  # noqa: E402

paddle.set_device("cpu")

NAME = "zoo-paddle"
__version__ = paddle.__version__

CAPABILITIES = {
    "dtypes": ["f64", "f32"],
    "groups": True, "stride": None, "dilation": None,
    "padding_pairs": True, "padding_strings": True,
    "timeout": 120,
}

#: departures of PaddlePaddle from the contract, found by convspec (see docs/repros/paddle_*.py)
DEPARTURES = {   # a literal dict (read with ast.literal_eval by convspec.reporting.findings, never by importing)
    "conv-transpose1d-matches-definition": {
        "statement": "PaddlePaddle's conv{1,2,3}d_transpose rejects an output_padding >= the stride on an axis even "
                     "where it is below the dilation (torch and the contract allow below the stride or the "
                     "dilation): ValueError '(InvalidArgument) Output_height and padding(padding_up, padding_down) "
                     "are inconsistent'; the limit to the stride was chosen in PaddlePaddle/Paddle#26921",
        "source": "https://github.com/PaddlePaddle/Paddle/pull/26921 (the output_padding check against the stride)",
        "upstream": "https://github.com/PaddlePaddle/Paddle/pull/26921 (merged; the dilation is not considered)",
        "observed": "ValueError: (InvalidArgument) Output_height and padding(padding_up, padding_down) are inconsistent.",
        "expected": "the adjoint scatter, L_out = (L - 1) s - 2 p + d (k - 1) + output_padding + 1",
        "counterexample": "tn2c9h2w4_o6k1x1_s1x1_p0x0_op0x1_d1x2_g3_nobias_f64_int (the audit's, not shrunk: dev budget)",
        "pins": ["tn1c1w1_o1k1_s1_p0_op1_d2_g1_nobias_f64_int",
                 "tn1c1d1h1w1_o1k1x1x1_s1x1x1_p0x0x0_op0x1x0_d1x2x1_g1_nobias_f64_int"],
        "repro": "docs/repros/paddle_output_padding.py",
    },
    "conv-transpose2d-matches-definition": "conv-transpose1d-matches-definition",
    "conv-transpose3d-matches-definition": "conv-transpose1d-matches-definition",
    "conv-transpose1d-is-adjoint-of-conv1d": "conv-transpose1d-matches-definition",
    "conv-transpose2d-is-adjoint-of-conv2d": "conv-transpose1d-matches-definition",
    "conv-transpose3d-is-adjoint-of-conv3d": "conv-transpose1d-matches-definition",
    "conv1d-same-padding-keeps-size": {
        "statement": "padding='SAME' with a dilated kernel keeps the length but not the contract's placement: with "
                     "k = 2, dilation 2 the d (k - 1) = 2 zeros go after the input (pads (0, 2)), where torch's "
                     "padding='same' and the contract put one before and one after",
        "source": "found by convspec",
        "upstream": "none found; closest: https://github.com/PaddlePaddle/Paddle2ONNX/issues/1356 (SAME with "
                    "dilation != 1 unsupported in the exporter, closed as stale)",
        "observed": "[21.0, 32.0, 43.0, 54.0, 5.0] (x = 1..5, w = [1, 10], dilation 2)",
        "expected": "[20.0, 31.0, 42.0, 53.0, 4.0]",
        "counterexample": "n4c7w4_o4k2_s1_p0_d2_g1_nobias_f64_int (the audit's, dev budget)",
        "repro": "docs/repros/paddle_same_dilation.py",
    },
    "conv2d-same-padding-keeps-size": "conv1d-same-padding-keeps-size",
    "conv3d-same-padding-keeps-size": "conv1d-same-padding-keeps-size",
}

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_TCONV = {1: F.conv1d_transpose, 2: F.conv2d_transpose, 3: F.conv3d_transpose}


def _t(a, grad=False):
    """A Paddle CPU tensor on a C-contiguous copy of ``a``."""
    if a is None:
        return None
    t = paddle.to_tensor(np.array(a, order="C", copy=True), stop_gradient=not grad)
    return t


def _np(t) -> np.ndarray:
    return np.array(t.numpy(), copy=True)


def _padding(padding, kernel, d):
    """'valid'/'same' -> Paddle's 'VALID'/'SAME'; ints and pairs -> [[0, 0], [0, 0], [before, after]...]."""
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int or a tuple")
        return padding.upper()
    return [[0, 0], [0, 0], *[[lo, hi] for lo, hi in pad_pairs(padding, kernel, d)]]


def _forward(xt, wt, bt, r, stride, padding, dilation, groups):
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    return _CONV[r](xt, wt, bt, stride=list(s), padding=_padding(padding, wt.shape[2:], d), dilation=list(d),
                    groups=int(groups))


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """paddle.nn.functional.conv{r}d."""
    r = np.ndim(w) - 2
    return _np(_forward(_t(x), _t(w), _t(b), r, stride, padding, dilation, groups))


conv1d = conv2d = conv3d = conv


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """paddle.nn.functional.conv{r}d_transpose (one padding per axis, output_padding)."""
    r = np.ndim(w) - 2
    s, p, op, d = transpose_params(w, stride, padding, output_padding, dilation)
    return _np(_TCONV[r](_t(x), _t(w), _t(b), stride=list(s), padding=list(p), output_padding=list(op),
                         groups=int(groups), dilation=list(d)))


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose


def _grad(x, w, grad_out, wrt, stride, padding, dilation, groups):
    xt, wt = _t(x, wrt == "input"), _t(w, wrt == "weight")
    y = _forward(xt, wt, None, np.ndim(w) - 2, stride, padding, dilation, groups)
    (g,) = paddle.grad([y], [xt if wrt == "input" else wt], grad_outputs=[_t(grad_out)])
    return _np(g)


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv(x, w), grad_out>/dx by paddle.grad (x's values do not matter: zeros)."""
    x = np.zeros(tuple(int(v) for v in input_shape), dtype=np.asarray(grad_out).dtype)
    return _grad(x, w, grad_out, "input", stride, padding, dilation, groups)


def conv_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """d<conv(x, w), grad_out>/dw by paddle.grad (w's values do not matter: zeros)."""
    w = np.zeros(tuple(int(v) for v in weight_shape), dtype=np.asarray(grad_out).dtype)
    return _grad(x, w, grad_out, "weight", stride, padding, dilation, groups)


conv1d_input = conv2d_input = conv3d_input = conv_input
conv1d_weight = conv2d_weight = conv3d_weight = conv_weight
