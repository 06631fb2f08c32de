"""Wrong twins of the library and CUDA claims (see test_twins.py)."""

from __future__ import annotations

from .test_twins import register

register({})
