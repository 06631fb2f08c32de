"""onnx.reference (``onnx.reference.ReferenceEvaluator``, onnx's pure-Python evaluator of the operator spec):
the contract's conv{r}d and conv_transpose{r}d as one-node ONNX models.

The models are :mod:`._onnx_graph`'s ``Conv`` (y[n, o, i] = B[o] + sum_{c, u} X[n, g C/G + c, i s + u d -
p_begin] W[o, c, u]) and ``ConvTranspose`` (the adjoint scatter) with torch's arguments as attributes; one
evaluator per op, attributes, shapes and dtype (cached).  The evaluator has no gradient ops and no 2-D signal
convolution: only these six ops.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

from convspec.backends.zoo._onnx_graph import conv_attrs, key, model, transpose_attrs

NAME = "onnx-reference"
__version__ = onnx.__version__
CAPABILITIES = {"dtypes": ["f64", "f32"], "groups": True, "stride": None, "dilation": None,
                "padding_pairs": True, "padding_strings": True, "timeout": 120}

DEPARTURES = {   # a literal dict (read with ast.literal_eval by convspec.reporting.findings, never by importing)
    "conv2d-propagates-special-values": {
        "statement": "onnx.reference's Conv dilates the kernel by inserting zeros between its taps, so an input "
                     "NaN or Inf lying between two dilated taps is multiplied by an inserted zero and the output "
                     "is NaN; the direct sum has no such term",
        "source": "found by convspec",
        "upstream": "none found: searched onnx/onnx issues for 'reference Conv dilation NaN', "
                    "'ReferenceEvaluator Conv dilations zeros kernel'",
        "observed": "[nan]", "expected": "[2.0]",
        "counterexample": "n1c1h1w3_o1k1x2_s1x1_p0x0_d1x2_g1_nobias_f64_int",
        "repro": "docs/repros/onnx_reference_dilated_nan.py",
    },
    "conv-transpose1d-matches-definition": {
        "statement": "onnx.reference's ConvTranspose raises a numpy reshape error for group > 1 as soon as a group "
                     "has more than one input or output channel (ONNX's ConvTranspose defines group; one channel "
                     "in and out per group works)",
        "source": "found by convspec",
        "upstream": "none found: searched onnx/onnx issues for 'reference ConvTranspose group reshape'; closest "
                    "onnx/onnx#7802 (open; invalid group counts that the checker accepts, not valid ones)",
        "observed": "ValueError: cannot reshape array of size 4 into shape (1,1,2)",
        "expected": "[10.0, 14.0, 33.0, 39.0]",
        "counterexample": "tn1c2w1_o4k1_s1_p0_op0_d1_g2_nobias_f64_int",
        "pins": ["tn2c9h1w3_o6k2x3_s1x1_p0x0_op0x0_d1x1_g3_nobias_f64_int",
                 "tn1c2d1h1w1_o4k1x1x1_s1x1x1_p0x0x0_op0x0x0_d1x1x1_g2_nobias_f64_int"],
        "repro": "docs/repros/onnx_reference_transpose_groups.py",
    },
    "conv-transpose2d-matches-definition": "conv-transpose1d-matches-definition",
    "conv-transpose3d-matches-definition": "conv-transpose1d-matches-definition",
    "conv-transpose1d-is-adjoint-of-conv1d": "conv-transpose1d-matches-definition",
    "conv-transpose2d-is-adjoint-of-conv2d": "conv-transpose1d-matches-definition",
    "conv-transpose3d-is-adjoint-of-conv3d": "conv-transpose1d-matches-definition",
}

_EVALUATORS: dict = {}


def _run(op_type, attrs, x, w, b):
    arrays = [np.array(x, copy=True), np.array(w, copy=True)] + ([] if b is None else [np.array(b, copy=True)])
    k = key(op_type, attrs, arrays + ([None] if b is None else []))
    ev = _EVALUATORS.get(k)
    if ev is None:
        shapes = (arrays[0].shape, arrays[1].shape, None if b is None else arrays[2].shape)
        ev = ReferenceEvaluator(onnx.load_from_string(model(op_type, attrs, shapes, arrays[0].dtype)))
        _EVALUATORS[k] = ev
    (y,) = ev.run(None, dict(zip(("X", "W", "B"), arrays)))
    return np.array(y, copy=True)


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """ONNX Conv, evaluated by onnx.reference."""
    return _run("Conv", conv_attrs(x, w, stride, padding, dilation, groups), x, w, b)


conv1d = conv2d = conv3d = conv


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """ONNX ConvTranspose, evaluated by onnx.reference."""
    return _run("ConvTranspose", transpose_attrs(x, w, stride, padding, output_padding, dilation, groups), x, w, b)


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose
