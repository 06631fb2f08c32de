"""Shared by the isolated gallery: the correct conv2d of ``gallery/_base.py`` and the seam at which
each fault fires: inputs wider than 3 (W > 3), so the smallest failing case has W == 4.

These implementations crash, exit, hang in native code or exhaust memory, so they run only behind
the worker boundary (``convspec.isolation.supervisor``), never in the self-test process itself."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "impls"))
import _base  # noqa: E402,F401

SEAM = 3


def past_seam(x) -> bool:
    """True on inputs wider than the seam (W > 3)."""
    return x.shape[-1] > SEAM
