"""Control: the correct conv2d every planted conv bug starts from (must pass on every seed)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-correct-conv"
TRIGGER = ()
SOURCE = "control"
CAPABILITIES = dict(_conv.CONV_CAPS)
conv2d = _conv.conv2d
