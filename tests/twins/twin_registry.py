"""The registry of wrong twins contributed by other self-test modules (library, CUDA, rank, pitfall and
layout claims): claim id -> wrong implementation.  Its own module, importing no other self-test module,
so that test_twins can import every contributor at load time without an import cycle."""

from __future__ import annotations

from convspec.claims import load_builtin

load_builtin()          # contributors register only the ids that exist: the registry must be complete first
EXTRA: dict = {}


def register(extra: dict):
    """Add twins (claim id -> gallery name, backend, or a zero-argument factory)."""
    EXTRA.update(extra)
