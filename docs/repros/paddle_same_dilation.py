"""PaddlePaddle: padding='SAME' with a dilated even kernel is not the contract's 'same' (library-only).

The contract (and torch's padding='same') pads a total of d (k - 1) zeros per axis, the extra one at the end:
with k = 2 and dilation 2 that is one zero before and one after, so y[i] = x[i - 1] w[0] + x[i + 1] w[1].
Paddle keeps the length but places the taps elsewhere.
"""
import numpy as np
import paddle
import paddle.nn.functional as F

print("paddle", paddle.__version__)
x = np.arange(1.0, 6.0).reshape(1, 1, 5)
w = np.array([1.0, 10.0]).reshape(1, 1, 2)
xp = np.pad(x[0, 0], (1, 1))                       # d (k - 1) = 2 zeros: one before, one after
expected = [xp[i] * w[0, 0, 0] + xp[i + 2] * w[0, 0, 1] for i in range(5)]
y = F.conv1d(paddle.to_tensor(x), paddle.to_tensor(w), padding="SAME", dilation=2)
print("observed:", y.numpy().ravel().tolist())
print("expected:", expected)
