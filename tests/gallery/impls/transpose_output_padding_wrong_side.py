"""conv_transpose2d that adds output_padding's extra rows/columns at the start of the output instead of the
end (its conv2d and conv2d_input are correct)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _family  # noqa: E402

conv2d = _family.conv2d
conv2d_input = _family.conv2d_input


def conv_transpose2d(x, w, b=None, **kw):
    return _family.conv_transpose2d(x, w, b, op_at_start=True, **kw)
