"""Shared fixtures of the self-tests: gallery loading and the example budget."""

from __future__ import annotations

import os

import pytest

GALLERY = os.path.join(os.path.dirname(__file__), "gallery", "impls")


def gallery_path(name: str) -> str:
    return os.path.join(GALLERY, name + ".py")


def gallery_names(prefix_filter=None):
    names = sorted(f[:-3] for f in os.listdir(GALLERY) if f.endswith(".py") and not f.startswith("_"))
    return [n for n in names if prefix_filter is None or prefix_filter(n)]


@pytest.fixture
def load():
    from convspec.backends.base import load_impl
    return lambda name: load_impl(gallery_path(name))


def pytest_collection_modifyitems(items):
    for item in items:
        if "/selftest/" in item.nodeid:
            item.add_marker(pytest.mark.selftest)
