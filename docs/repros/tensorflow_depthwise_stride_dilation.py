"""tf.nn.depthwise_conv2d with stride > 1 and dilation > 1: a wrong result (values, even the shape), not an error.

TF's docs say all strides must be 1 when a dilation exceeds 1; the op only warns (UserWarning) and returns
the result of another computation.  tf.nn.conv2d with the same grouped (groups == C_in) filter is right.
Library-only (numpy, tensorflow); the expected values are a direct numpy loop of the definition.
Upstream: tensorflow/tensorflow#100237 (open).
"""
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def direct(x, w, s, d):
    """Depthwise cross-correlation, NHWC x, (kh, kw, C, 1) w, VALID."""
    n, h, wd, c = x.shape
    kh, kw = w.shape[:2]
    oh, ow = (h - d * (kh - 1) - 1) // s + 1, (wd - d * (kw - 1) - 1) // s + 1
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            for u in range(kh):
                for v in range(kw):
                    y[:, i, j, :] += x[:, i * s + u * d, j * s + v * d, :] * w[u, v, :, 0]
    return y


x = np.arange(1 * 7 * 7 * 1, dtype=np.float64).reshape(1, 7, 7, 1) % 5 - 2
w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)
for s, d in [(2, 2), (3, 2)]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = tf.nn.depthwise_conv2d(x, w, [1, s, s, 1], "VALID", dilations=[d, d]).numpy()
    want = direct(x, w, s, d)
    ok = got.shape == want.shape and np.array_equal(got, want)
    print(f"tf {tf.__version__} x 1x7x7x1, k 2x2, stride {s}, dilation {d}: warnings {len(caught)}; "
          f"{'equal' if ok else 'DIFFERENT'}")
    print("  observed", got.shape, got[0, :, :, 0].tolist())
    print("  expected", want.shape, want[0, :, :, 0].tolist())
    print("  tf.nn.conv2d:", np.array_equal(tf.nn.conv2d(x, w, s, "VALID", dilations=d).numpy(), want))
