"""onnx.reference: Conv with a dilated kernel lets a NaN that lies between two taps reach the output (library-only).

A 1x3 input [1, NaN, 1] and a 1x2 kernel of ones with dilation 2: the one output reads x[0] and x[2] only, so it
is 2.  The reference evaluator's Conv dilates the kernel by inserting zeros ([1, 0, 1]) and multiplies the NaN by
that zero: NaN.  (ONNX's Conv spec defines dilation as spacing between the kernel's taps; the middle input is no
tap's.)
"""
import numpy as np
import onnx
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

print("onnx", onnx.__version__)
node = helper.make_node("Conv", ["X", "W"], ["Y"], dilations=[1, 2], strides=[1, 1], pads=[0, 0, 0, 0],
                        kernel_shape=[1, 2], group=1)
graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [1, 1, 1, 3]),
                                         helper.make_tensor_value_info("W", TensorProto.DOUBLE, [1, 1, 1, 2])],
                          [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
x = np.array([1.0, np.nan, 1.0]).reshape(1, 1, 1, 3)
w = np.ones((1, 1, 1, 2))
y = ReferenceEvaluator(model).run(None, {"X": x, "W": w})[0]
print("observed:", y.ravel().tolist())
print("expected:", [float(x[0, 0, 0, 0] * w[0, 0, 0, 0] + x[0, 0, 0, 2] * w[0, 0, 0, 1])])
