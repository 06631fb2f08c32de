"""Shared fixtures of the self-tests: gallery loading and the example budget."""

from __future__ import annotations

import os

import pytest

GALLERY = os.path.join(os.path.dirname(__file__), "gallery", "impls")
TWINS = os.path.join(os.path.dirname(__file__), "gallery", "twins")


def gallery_path(name: str) -> str:
    return os.path.join(GALLERY, name + ".py")


def twin_path(name: str) -> str | None:
    """The file of the wrong twin a claim names (``twin=``): tests/gallery/twins/NAME.py, else the gallery's
    --impl module tests/gallery/impls/NAME.py; None when there is neither."""
    for path in (os.path.join(TWINS, name + ".py"), gallery_path(name)):
        if os.path.exists(path):
            return path
    return None


def twin_backend(name: str):
    """The wrong twin ``name`` as a backend: a module of tests/gallery/twins/ builds it (``backend()``), one of
    tests/gallery/impls/ is loaded as an --impl."""
    import importlib

    from convspec.backends.base import load_impl
    path = twin_path(name)
    if path is None:
        raise LookupError(f"no wrong twin {name!r}: neither {TWINS}/{name}.py nor {GALLERY}/{name}.py")
    if os.path.dirname(path) == TWINS:
        return importlib.import_module(f"tests.gallery.twins.{name}").backend()
    return load_impl(path)


def gallery_names(prefix_filter=None):
    names = sorted(f[:-3] for f in os.listdir(GALLERY) if f.endswith(".py") and not f.startswith("_"))
    return [n for n in names if prefix_filter is None or prefix_filter(n)]


@pytest.fixture
def load():
    from convspec.backends.base import load_impl
    return lambda name: load_impl(gallery_path(name))
