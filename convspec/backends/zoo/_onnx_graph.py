"""One-node ONNX models for the contract's convs (shared by the ONNX Runtime and onnx.reference adapters).

The contract's call becomes an ONNX ``Conv`` or ``ConvTranspose`` node whose attributes carry torch's arguments
unchanged (the ONNX operator spec, https://onnx.ai/onnx/operators/onnx__Conv.html and
onnx__ConvTranspose.html):

* Conv: ``strides`` = s, ``dilations`` = d, ``group`` = G, ``kernel_shape`` = k, ``pads`` = all the befores then
  all the afters ([x1_begin, x2_begin, ..., x1_end, x2_end]); padding='valid' is ``auto_pad="VALID"`` and 'same'
  ``auto_pad="SAME_UPPER"`` (the extra element of an odd total at the end, as torch).  X: (N, C, *L),
  W: (C_out, C/G, *k), B: (C_out,) -- torch's layouts, which are ONNX's.
* ConvTranspose: ``pads`` = p before and after, ``output_padding``, ``strides``, ``dilations``, ``group``;
  W: (C_in, C_out/G, *k); the output length is s (L - 1) + output_padding + d (k - 1) + 1 - 2 p (torch's).

:func:`model` returns (the serialized ModelProto, the input names in call order); nothing here runs a model.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from convspec.backends._util import ntuple, pad_pairs, transpose_params

OPSET = 22
_ELEM = {"float64": TensorProto.DOUBLE, "float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16,
         "bfloat16": TensorProto.BFLOAT16}


def elem_type(dtype) -> int:
    """The ONNX element type of a numpy dtype (ValueError naming it when ONNX has none here)."""
    name = np.dtype(dtype).name
    if name not in _ELEM:
        raise ValueError(f"dtype {name}: no ONNX element type here (float64, float32, float16, bfloat16)")
    return _ELEM[name]


def conv_attrs(x, w, stride, padding, dilation, groups) -> dict:
    """The Conv node's attributes for the contract's conv{r}d arguments."""
    r = np.ndim(x) - 2
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    a = {"strides": list(s), "dilations": list(d), "group": int(groups), "kernel_shape": list(np.shape(w)[2:])}
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int or a tuple")
        a["auto_pad"] = "VALID" if padding == "valid" else "SAME_UPPER"
    else:
        pads = pad_pairs(padding, np.shape(w)[2:], d)
        a["pads"] = [lo for lo, _ in pads] + [hi for _, hi in pads]
    return a


def transpose_attrs(x, w, stride, padding, output_padding, dilation, groups) -> dict:
    """The ConvTranspose node's attributes for the contract's conv_transpose{r}d arguments."""
    s, p, op, d = transpose_params(w, stride, padding, output_padding, dilation)
    return {"strides": list(s), "dilations": list(d), "group": int(groups), "kernel_shape": list(np.shape(w)[2:]),
            "pads": list(p) + list(p), "output_padding": list(op)}


def model(op_type: str, attrs: dict, shapes: tuple, dtype, opset: int = OPSET) -> bytes:
    """A serialized one-node model ``Y = op_type(X, W[, B])``; ``shapes`` = (x shape, w shape, b shape or None)."""
    et = elem_type(dtype)
    names = ["X", "W"] + (["B"] if shapes[2] is not None else [])
    inputs = [helper.make_tensor_value_info(n, et, list(s)) for n, s in zip(names, shapes)]
    node = helper.make_node(op_type, names, ["Y"], **attrs)
    graph = helper.make_graph([node], "convspec", inputs, [helper.make_tensor_value_info("Y", et, None)])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = min(m.ir_version, 10)
    return m.SerializeToString()


def key(op_type: str, attrs: dict, arrays) -> tuple:
    """A cache key: the op, its attributes, the input shapes and the dtype."""
    return (op_type, tuple(sorted((k, str(v)) for k, v in attrs.items())),
            tuple(None if a is None else tuple(np.shape(a)) for a in arrays), np.asarray(arrays[0]).dtype.name)


__all__ = ["OPSET", "conv_attrs", "elem_type", "key", "model", "onnx", "transpose_attrs"]
