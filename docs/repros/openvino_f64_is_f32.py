"""OpenVINO CPU plugin: a float64 Convolution computes in float32 (library-only repro).

A 1x2 input [0.1, 0.2] and kernel [0.3, 0.4] in float64: the exact-to-f64 answer is 0.1*0.3 + 0.2*0.4 = 0.11; the
plugin returns float64 data carrying float32 rounding (its inference precisions are FP32/BF16/FP16; f64 is run in
f32, https://docs.openvino.ai/2024/openvino-workflow/running-inference/inference-devices-and-modes/cpu-device.html).
"""
import numpy as np
import openvino as ov
import openvino.opset13 as ops

print("openvino", ov.__version__)
X = ops.parameter([1, 1, 1, 2], ov.Type.f64, name="X")
W = ops.parameter([1, 1, 1, 2], ov.Type.f64, name="W")
y = ops.convolution(X, W, strides=[1, 1], pads_begin=[0, 0], pads_end=[0, 0], dilations=[1, 1])
cm = ov.Core().compile_model(ov.Model([y], [X, W]), "CPU")
x = np.array([0.1, 0.2]).reshape(1, 1, 1, 2)
w = np.array([0.3, 0.4]).reshape(1, 1, 1, 2)
out = cm([x, w])[0]
print("observed:", repr(float(out.ravel()[0])), out.dtype)
print("expected:", repr(float(x.ravel() @ w.ravel())), "(float64);", "float32 would give",
      repr(float(np.float32(x.ravel().astype(np.float32) @ w.ravel().astype(np.float32)))))
