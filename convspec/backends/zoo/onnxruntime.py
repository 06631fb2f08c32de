"""ONNX Runtime (CPUExecutionProvider): the contract's conv{r}d and conv_transpose{r}d as one-node ONNX models.

Each call builds (once per op, attributes, shapes and dtype; sessions are cached) the model of
:mod:`._onnx_graph` -- ``Conv`` (y[n, o, i] = B[o] + sum_{c, u} X[n, g C/G + c, i s + u d - p_begin] W[o, c, u])
or ``ConvTranspose`` (the adjoint scatter, torch's output length) with torch's arguments as the node's
attributes -- and runs it in an ``onnxruntime.InferenceSession`` with one intra-op thread.
ONNX Runtime has no gradient ops in its inference build, nor a 2-D signal convolution: only these six ops.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from convspec.backends.zoo._onnx_graph import conv_attrs, key, model, transpose_attrs

NAME = "onnxruntime"
__version__ = ort.__version__
CAPABILITIES = {"dtypes": ["f32", "f16"], "groups": True, "stride": None, "dilation": None,
                "padding_pairs": True, "padding_strings": True, "timeout": 60}

DEPARTURES = {   # a literal dict (read with ast.literal_eval by convspec.reporting.findings, never by importing)
    "conv-transpose1d-matches-definition": {
        "statement": "ONNX Runtime rejects a ConvTranspose whose output_padding is >= the stride on an axis even "
                     "where it is below the dilation (torch and the contract allow below the stride or the "
                     "dilation): the model loads, and the run fails with 'output_padding (1) may be too large for "
                     "stride (1)'; ONNX's spec says 'less than the corresponding stride/dilation', which "
                     "onnx/onnx#3187 asked to clarify",
        "source": "https://github.com/onnx/onnx/issues/3187",
        "upstream": "https://github.com/onnx/onnx/issues/3187 (closed as stale, unanswered)",
        "observed": "InvalidArgument: Computed output shape is inconsistent with input spatial dimensions",
        "expected": "the adjoint scatter, L_out = (L - 1) s - 2 p + d (k - 1) + output_padding + 1",
        "counterexample": "tn1c1w1_o1k1_s1_p0_op1_d2_g1_nobias_f32_int",
        "pins": ["tn1c1h1w1_o1k1x1_s1x1_p0x0_op0x1_d1x2_g1_nobias_f32_int",
                 "tn1c1d1h1w1_o1k1x1x1_s1x1x1_p0x0x0_op0x1x0_d1x2x1_g1_nobias_f32_int"],
        "repro": "docs/repros/onnxruntime_output_padding.py",
    },
    "conv-transpose2d-matches-definition": "conv-transpose1d-matches-definition",
    "conv-transpose3d-matches-definition": "conv-transpose1d-matches-definition",
    "conv-transpose1d-is-adjoint-of-conv1d": "conv-transpose1d-matches-definition",
    "conv-transpose2d-is-adjoint-of-conv2d": "conv-transpose1d-matches-definition",
    "conv-transpose3d-is-adjoint-of-conv3d": "conv-transpose1d-matches-definition",
    "conv1d-same-padding-keeps-size": {
        "statement": "ONNX Runtime's CPU Conv raises 'Dilation not supported for AutoPadType::SAME_UPPER or "
                     "AutoPadType::SAME_LOWER' for auto_pad SAME_* with a dilation above 1 (the export of torch's "
                     "padding='same' with dilation)",
        "source": "https://github.com/microsoft/onnxruntime/issues/20582",
        "upstream": "https://github.com/microsoft/onnxruntime/issues/20582 (closed)",
        "observed": "InvalidArgument: Dilation not supported for AutoPadType::SAME_UPPER or AutoPadType::SAME_LOWER",
        "expected": "[20.0, 41.0, 2.0] (input length kept, d (k - 1) padded, the extra element at the end)",
        "counterexample": "n4c3w7_o7k4_s1_p0_d2_g1_nobias_f32_int (padding='same'); 2-D: "
                          "n1c1h1w1_o1k1x1_s1x1_p0x0_d1x2_g1_nobias_f32_int; 3-D: "
                          "n1c1d1h1w1_o1k1x1x1_s1x1x1_p0x0x0_d1x1x2_g1_nobias_f32_int",
        "repro": "docs/repros/onnxruntime_same_dilation.py",
    },
    "conv2d-same-padding-keeps-size": "conv1d-same-padding-keeps-size",
    "conv3d-same-padding-keeps-size": "conv1d-same-padding-keeps-size",
}

_SESSIONS: dict = {}
ort.set_default_logger_severity(4)      # a failing run raises; its duplicate on stderr would flood the gate's output


def _options():
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return so


def _run(op_type, attrs, x, w, b):
    arrays = [np.ascontiguousarray(x), np.ascontiguousarray(w)] + ([] if b is None else [np.ascontiguousarray(b)])
    k = key(op_type, attrs, arrays + ([None] if b is None else []))
    sess = _SESSIONS.get(k)
    if sess is None:
        shapes = (arrays[0].shape, arrays[1].shape, None if b is None else arrays[2].shape)
        sess = ort.InferenceSession(model(op_type, attrs, shapes, arrays[0].dtype), _options(),
                                    providers=["CPUExecutionProvider"])
        _SESSIONS[k] = sess
    (y,) = sess.run(["Y"], dict(zip(("X", "W", "B"), arrays)))
    return np.array(y, copy=True)


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """ONNX Conv."""
    return _run("Conv", conv_attrs(x, w, stride, padding, dilation, groups), x, w, b)


conv1d = conv2d = conv3d = conv


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """ONNX ConvTranspose."""
    return _run("ConvTranspose", transpose_attrs(x, w, stride, padding, output_padding, dilation, groups), x, w, b)


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose
