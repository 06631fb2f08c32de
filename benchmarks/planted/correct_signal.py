"""Control: the correct convolve2d / correlate2d (scipy semantics) the planted signal bug starts from."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _conv  # noqa: E402

NAME = "planted-correct-signal"
TRIGGER = ()
SOURCE = "control"
CAPABILITIES = dict(_conv.SIGNAL_CAPS)


def convolve2d(a, k, mode="full"):
    return _conv.signal(a, k, mode, correlate=False)


def correlate2d(a, k, mode="full"):
    return _conv.signal(a, k, mode, correlate=True)
