"""A hand-unrolled path for exactly 7 output channels (batched inputs, kernels taller than one row)
whose last channel is a copy of the sixth (a copy-paste slip in the unrolled tile).  Correct for every
other shape, so only a search that happens to draw such a problem sees it: the ``ci`` gate's
derandomized examples miss it, a minute or two of ``convspec fuzz`` finds it (the planted bug of
tests/unit/test_database.py and benchmarks/fuzz.py).  It lives outside gallery/ because the
gallery test requires every wrong implementation there to be rejected by the short budget."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "impls"))
import _base  # noqa: E402

UNROLLED = 7


def conv2d(x, w, b=None, **kw):
    y = _base.conv2d(x, w, b, **kw)
    if y.shape[1] == UNROLLED and x.shape[0] >= 2 and w.shape[2] >= 2:       # batched, kernel taller than 1
        y = y.copy()
        y[:, 6] = y[:, 5]
    return y
