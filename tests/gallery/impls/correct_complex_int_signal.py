"""A correct signal implementation that declares complex and integer data (scipy semantics:
correlate2d conjugates k; integer inputs keep their type and wrap around)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _base  # noqa: E402

NAME = "correct-complex-int"
CAPABILITIES = {"dtypes": ["f64", "c128", "i32", "i8"]}


def convolve2d(a, k, mode="full"):
    return _base.convolve2d(a, k, mode)


def correlate2d(a, k, mode="full"):
    return _base.correlate2d(a, k, mode)
