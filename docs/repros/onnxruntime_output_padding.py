"""ONNX Runtime: ConvTranspose with output_padding >= stride (but below the dilation) is rejected (library-only).

torch (and the contract) allow output_padding below the stride *or* the dilation on each axis: with stride 1,
dilation 2, a 3-wide kernel and output_padding 1 the output has (L - 1) + 2 * 2 + 1 + 1 = L + 5 elements, the last
of which no input reaches (it is 0 plus the bias).  ONNX Runtime's first attribute check accepts the model; its
later shape check at run time fails with "output_padding (1) may be too large for stride (1)".
"""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

print("onnxruntime", ort.__version__, "onnx", onnx.__version__)
L = 4
node = helper.make_node("ConvTranspose", ["X", "W"], ["Y"], strides=[1], dilations=[2], pads=[0, 0],
                        output_padding=[1], kernel_shape=[3], group=1)
graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1, L]),
                                         helper.make_tensor_value_info("W", TensorProto.FLOAT, [1, 1, 3])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
model.ir_version = 10
x = np.arange(1, L + 1, dtype=np.float32).reshape(1, 1, L)
w = np.ones((1, 1, 3), np.float32)
expected = np.zeros(L + 5, np.float32)                # the adjoint scatter, by hand
for i in range(L):
    for u in range(3):
        expected[i + 2 * u] += x[0, 0, i]
try:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    observed = sess.run(None, {"X": x, "W": w})[0].ravel().tolist()
except Exception as e:                                # what this script shows
    observed = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
print("observed:", observed)
print("expected:", expected.tolist())
