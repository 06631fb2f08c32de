"""JAX/XLA CPU, float64: a NaN in group 0's input reaches group 1's output (library-only repro).

A grouped conv (feature_group_count=2, 1x1 kernel of ones) on x with one NaN in channel 0 (group 0).
Group 1 reads channel 1 only, which is all zeros, so its output must be 0.  In float32 it is; in float64 the
NaN appears in group 1's output at the same position (as if the groups were computed as one dense conv whose
kernel has zeros off the group blocks: 0 * NaN = NaN).  An Inf does the same (0 * Inf = NaN).
"""
import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
from jax import lax  # noqa: E402

print("jax", jax.__version__)
for dtype in (np.float32, np.float64):
    for bad in (np.nan, np.inf):
        x = np.zeros((1, 2, 1, 2), dtype)
        x[0, 0, 0, 0] = bad                       # group 0's only input channel
        w = np.ones((2, 1, 1, 1), dtype)          # one output channel per group
        y = np.asarray(lax.conv_general_dilated(x, w, (1, 1), [(0, 0), (0, 0)], feature_group_count=2))
        print(f"{np.dtype(dtype).name} input {bad}: group 1 output observed {y[0, 1, 0].tolist()}, "
              f"expected [0.0, 0.0]")
