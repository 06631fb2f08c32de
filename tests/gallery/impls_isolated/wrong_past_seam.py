"""Correct, except that on inputs wider than 3 it adds 1 to every output: an ordinary wrong result at
the same seam as the faults of this folder, safe to run in process.  The self-tests use it as the
yardstick: a crash, an exit, a hang or an allocation failure past the seam must shrink exactly as far
as this wrong result does."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _seam  # noqa: E402


def conv2d(x, w, b=None, **kw):
    y = _seam._base.conv2d(x, w, b, **kw)
    return y + 1 if _seam.past_seam(x) else y
