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

from ._onnx_graph import conv_attrs, key, model, transpose_attrs

NAME = "onnxruntime"
__version__ = ort.__version__
CAPABILITIES = {"dtypes": ["f32", "f16"], "groups": True, "stride": None, "dilation": None,
                "padding_pairs": True, "padding_strings": True, "timeout": 60}

DEPARTURES = {}

_SESSIONS: dict = {}


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
