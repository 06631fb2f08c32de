"""ONNX Runtime: Conv with auto_pad=SAME_UPPER and a dilation above 1 raises (library-only repro).

ONNX defines SAME_UPPER padding from the dilated kernel's extent; torch's padding='same' with dilation 2 exports
as exactly this node.  ONNX Runtime's CPU Conv raises "Dilation not supported for AutoPadType::SAME_UPPER or
AutoPadType::SAME_LOWER" instead (microsoft/onnxruntime#20582).  Expected: the input's length, d (k - 1) = 2
padded as 1 before and 1 after.
"""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

print("onnxruntime", ort.__version__, "onnx", onnx.__version__)
ort.set_default_logger_severity(4)
node = helper.make_node("Conv", ["X", "W"], ["Y"], auto_pad="SAME_UPPER", dilations=[2], strides=[1],
                        kernel_shape=[2], group=1)
graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1, 3]),
                                         helper.make_tensor_value_info("W", TensorProto.FLOAT, [1, 1, 2])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
model.ir_version = 10
x = np.array([1.0, 2.0, 4.0], np.float32).reshape(1, 1, 3)
w = np.array([1.0, 10.0], np.float32).reshape(1, 1, 2)
try:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    observed = sess.run(None, {"X": x, "W": w})[0].ravel().tolist()
except Exception as e:
    observed = f"{type(e).__name__}: {str(e).splitlines()[0][-110:]}"
xp = np.pad(x.ravel(), (1, 1))
print("observed:", observed)
print("expected:", [float(xp[i] * w.ravel()[0] + xp[i + 2] * w.ravel()[1]) for i in range(3)])
