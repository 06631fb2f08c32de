"""Normalises stride/padding/dilation with ``isinstance(v, int)`` and indexes anything else as a pair:
numpy integer scalars (what shapes and arithmetic on arrays produce) make it raise."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    return _base.conv2d(x, w, b, stride=_pair(stride), padding=_pair(padding), dilation=_pair(dilation),
                        groups=groups)
