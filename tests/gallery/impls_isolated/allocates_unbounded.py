"""Correct, except that on inputs wider than 3 it allocates (and touches) 64 MiB blocks without
bound, as a leaking workspace allocator does.  Run it under a memory limit (load_isolated's
memory_limit_mb, ``--memory-limit``); as a safety net for the machine it gives up at 4 GiB with a
MemoryError of its own."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _seam  # noqa: E402
import numpy as np  # noqa: E402

BLOCK = 64 << 20
SAFETY = 4 << 30


def conv2d(x, w, b=None, **kw):
    if _seam.past_seam(x):
        hoard = []
        while len(hoard) * BLOCK < SAFETY:
            hoard.append(np.ones(BLOCK, np.uint8))
        raise MemoryError(f"safety net: gave up after {SAFETY >> 30} GiB (run it under a memory limit)")
    return _seam._base.conv2d(x, w, b, **kw)
