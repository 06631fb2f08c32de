"""PaddlePaddle: conv1d_transpose with output_padding >= stride (but below the dilation) is rejected (library-only).

torch (and the contract) allow output_padding below the stride *or* the dilation on each axis: with stride 1,
dilation 2, a 3-wide kernel and output_padding 1 the output has (L - 1) + 2 * 2 + 1 + 1 = L + 5 elements, the last
of which no input reaches (it is 0 plus the bias).  Paddle refuses the call ("Output_height and padding ... are
inconsistent" or an output_padding check), as ONNX Runtime does (docs/repros/onnxruntime_output_padding.py).
"""
import numpy as np
import paddle
import paddle.nn.functional as F

print("paddle", paddle.__version__)
L = 4
x = np.arange(1, L + 1, dtype=np.float64).reshape(1, 1, L)
w = np.ones((1, 1, 3), np.float64)
expected = np.zeros(L + 5)                # the adjoint scatter, by hand
for i in range(L):
    for u in range(3):
        expected[i + 2 * u] += x[0, 0, i]
try:
    y = F.conv1d_transpose(paddle.to_tensor(x), paddle.to_tensor(w), stride=1, padding=0, output_padding=1,
                           dilation=2)
    print("observed:", y.numpy().ravel().tolist())
except Exception as e:                    # noqa: BLE001 -- the point is what it raises
    print("observed: raised", type(e).__name__, str(e).splitlines()[0][:200])
print("expected:", expected.tolist())
