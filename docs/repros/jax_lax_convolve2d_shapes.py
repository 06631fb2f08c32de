"""jax.scipy.signal.convolve2d / correlate2d raise on shapes scipy.signal accepts (library-only repro).

scipy.signal.convolve2d requires one input to be at least as large as the other in every dimension only in mode
'valid'; in 'full' and 'same' any two shapes work.  JAX's versions raise "One input must be smaller than the other
in every dimension" in every mode, e.g. a 2x1 input with a 1x2 kernel.
"""
import jax
import jax.scipy.signal as jsig
import numpy as np
import scipy
import scipy.signal as ssig

print("jax", jax.__version__, "scipy", scipy.__version__)
a = np.array([[1.0], [2.0]])
k = np.array([[1.0, 3.0]])
for mode in ("full", "same"):
    try:
        observed = np.asarray(jsig.convolve2d(a, k, mode=mode)).tolist()
    except Exception as e:
        observed = f"{type(e).__name__}: {e}"
    print(f"convolve2d {mode}: observed {observed}; expected {ssig.convolve2d(a, k, mode=mode).tolist()}")
