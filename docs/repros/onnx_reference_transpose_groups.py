"""onnx.reference: ConvTranspose with group > 1 raises instead of computing (library-only).

ONNX's ConvTranspose takes ``group`` (W: (C_in, C_out/group, k...)).  onnx.reference's evaluator fails with a
reshape error once a group has more than one output channel (or more than one input channel); one channel in and
one out per group (depthwise) works.  Expected: group g's input channel scatters into group g's two outputs:
y[g * 2 + o] = x[g] * w[g, o].
"""
import numpy as np
import onnx
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

print("onnx", onnx.__version__)
node = helper.make_node("ConvTranspose", ["X", "W"], ["Y"], strides=[1], pads=[0, 0], dilations=[1],
                        kernel_shape=[1], group=2)
graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [1, 2, 1]),
                                         helper.make_tensor_value_info("W", TensorProto.DOUBLE, [2, 2, 1])],
                          [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
x = np.array([2.0, 3.0]).reshape(1, 2, 1)
w = np.array([5.0, 7.0, 11.0, 13.0]).reshape(2, 2, 1)
try:
    observed = ReferenceEvaluator(model).run(None, {"X": x, "W": w})[0].ravel().tolist()
except Exception as e:
    observed = f"{type(e).__name__}: {e}"
print("observed:", observed)
print("expected:", [2.0 * 5.0, 2.0 * 7.0, 3.0 * 11.0, 3.0 * 13.0])
