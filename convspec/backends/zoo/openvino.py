"""OpenVINO (CPU plugin): the contract's convs as one-op OpenVINO models (opset13).

Per op (ops of https://docs.openvino.ai/ -- Convolution-1, GroupConvolution-1, ConvolutionBackpropData-1,
GroupConvolutionBackpropData-1), x and w are model Parameters (never constants: nothing is folded at compile time):

* conv{r}d: ``Convolution(X, W, strides=s, pads_begin, pads_end, dilations=d)``:
  y[n, o, i] = sum_{c, u} X[n, c, i s + u d - pads_begin] W[o, c, u]; with G > 1 ``GroupConvolution`` on W
  reshaped (C_out, C/G, *k) -> (G, C_out/G, C/G, *k) (the same numbers).  'valid'/'same' are auto_pad
  "valid"/"same_upper" (the extra element at the end, as torch).  The bias is an Add of B as (1, C_out, 1...).
* conv_transpose{r}d: ``ConvolutionBackpropData(X, W, strides, pads_begin = pads_end = p, dilations,
  output_padding)`` (``GroupConvolutionBackpropData`` on W (C_in, C_out/G, *k) -> (G, C_in/G, C_out/G, *k)):
  the adjoint scatter, output length s (L - 1) + d (k - 1) + 1 - 2 p + output_padding (torch's).
* conv{r}d_input: the same backprop op applied to grad_out with the conv's weight (C_out, C/G, *k) and
  output_padding = (L + 2 p - d (k - 1) - 1) mod s, which gives the input's length L back.
The compiled models are cached per op, attributes, shapes and dtype; the CPU plugin runs with one thread.

float64 is not declared: the CPU plugin takes f64 models but computes in f32 (its documented inference precisions
are FP32, BF16 and FP16, https://docs.openvino.ai/2024/openvino-workflow/running-inference/inference-devices-and-
modes/cpu-device.html), so every f64 result carries f32 rounding (docs/repros/openvino_f64_is_f32.py).  On CPUs with
AVX512_BF16/AMX the default ``INFERENCE_PRECISION_HINT`` is bf16 (same page): f32 models then compute in bf16; this
machine has neither, the hint reads f32 here.
"""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from convspec.backends._util import ntuple, pad_pairs, transpose_params

NAME = "openvino"
__version__ = ov.__version__
CAPABILITIES = {"dtypes": ["f32", "f16"], "groups": True, "stride": None, "dilation": None,
                "padding_pairs": True, "padding_strings": True, "timeout": 60}

DEPARTURES = {}

_CORE = ov.Core()
_COMPILED: dict = {}
_TYPES = {"float64": ov.Type.f64, "float32": ov.Type.f32, "float16": ov.Type.f16}


def _build(kind, attrs, shapes, dtype):
    et = _TYPES[np.dtype(dtype).name]
    xs, ws, bs = shapes
    X, W = ops.parameter(list(xs), et, name="X"), ops.parameter(list(ws), et, name="W")
    params = [X, W]
    if kind == "conv":
        fn = ops.group_convolution if len(ws) == len(xs) + 1 else ops.convolution
        y = fn(X, W, **attrs)
    else:
        fn = ops.group_convolution_backprop_data if len(ws) == len(xs) + 1 else ops.convolution_backprop_data
        y = fn(X, W, **attrs)
    if bs is not None:
        B = ops.parameter(list(bs), et, name="B")
        params.append(B)
        y = ops.add(y, ops.reshape(B, ops.constant(np.array([1, -1] + [1] * (len(xs) - 2), np.int64)), False))
    return ov.Model([y], params, "convspec")


def _run(kind, attrs, x, w, b):
    arrays = [np.ascontiguousarray(x), np.ascontiguousarray(w)] + ([] if b is None else [np.ascontiguousarray(b)])
    dt = arrays[0].dtype
    if dt.name not in _TYPES:
        raise ValueError(f"dtype {dt.name}: not an OpenVINO element type here ({', '.join(_TYPES)})")
    shapes = (arrays[0].shape, arrays[1].shape, None if b is None else arrays[2].shape)
    k = (kind, tuple(sorted((a, str(v)) for a, v in attrs.items())), shapes, dt.name)
    cm = _COMPILED.get(k)
    if cm is None:
        cm = _CORE.compile_model(_build(kind, attrs, shapes, dt), "CPU", {"INFERENCE_NUM_THREADS": 1})
        _COMPILED[k] = cm
    y = cm(arrays)[0]
    return np.array(y, copy=True)


def _grouped(w, groups):
    """A weight (A, B, *k) as OpenVINO's grouped filters (G, A/G, B, *k) when G > 1 (the same numbers)."""
    g = int(groups)
    return w if g == 1 else np.reshape(w, (g, w.shape[0] // g) + tuple(w.shape[1:]))


def conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """Convolution / GroupConvolution, then + B."""
    r = np.ndim(x) - 2
    s, d = ntuple(stride, r, "stride"), ntuple(dilation, r, "dilation")
    a = {"strides": list(s), "dilations": list(d)}
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int or a tuple")
        a.update(pads_begin=[0] * r, pads_end=[0] * r, auto_pad="valid" if padding == "valid" else "same_upper")
    else:
        pads = pad_pairs(padding, np.shape(w)[2:], d)
        a.update(pads_begin=[lo for lo, _ in pads], pads_end=[hi for _, hi in pads])
    return _run("conv", a, x, _grouped(np.asarray(w), groups), b)


conv1d = conv2d = conv3d = conv


def conv_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """ConvolutionBackpropData / GroupConvolutionBackpropData, then + B."""
    s, p, op, d = transpose_params(w, stride, padding, output_padding, dilation)
    a = {"strides": list(s), "pads_begin": list(p), "pads_end": list(p), "dilations": list(d),
         "output_padding": list(op)}
    return _run("transpose", a, x, _grouped(np.asarray(w), groups), b)


conv_transpose1d = conv_transpose2d = conv_transpose3d = conv_transpose


def conv_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
    """ConvolutionBackpropData of grad_out with the conv's weight, back to input_shape."""
    s, p, _, d = transpose_params(w, stride, padding, 0, dilation)
    k = np.shape(w)[2:]
    L = tuple(int(v) for v in input_shape[2:])
    op = [(n + 2 * pp - dd * (kk - 1) - 1) % ss for n, pp, dd, kk, ss in zip(L, p, d, k, s)]
    a = {"strides": list(s), "pads_begin": list(p), "pads_end": list(p), "dilations": list(d), "output_padding": op}
    w = np.asarray(w).astype(np.asarray(grad_out).dtype)
    return _run("transpose", a, grad_out, _grouped(w, groups), None)


conv1d_input = conv2d_input = conv3d_input = conv_input
