"""Example budgets (Hypothesis settings profiles).  Chosen with ``--profile NAME`` (``convspec``),
``--convspec-profile NAME`` (pytest; ``--hypothesis-profile NAME`` too) or ``CONVSPEC_PROFILE``; the
default is ``ci`` on both fronts.

* ``dev``     -- fast local iteration: 12 examples per search.
* ``ci``      -- the gate: Hypothesis's own ``ci`` profile (derandomized, no database, no deadline)
  with convspec's budget of 40 examples on top.
* ``nightly`` -- 600 examples, random seeds, an example database in ``.hypothesis/``.

The shared example database (``--convspec-database`` / ``CONVSPEC_DATABASE``, :mod:`convspec.search.database`)
overrides a profile's own database for the gate (read-only), ``ci``'s ``None`` included.

They are registered as ``convspec-dev``, ``convspec-ci`` and ``convspec-nightly``, so installing the
plugin changes no other project's profiles; the checkout's conftest.py also registers the short names
(``--hypothesis-profile ci``) for the suite itself.  Nothing here reads Hypothesis's private state.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

from convspec.options import DEFAULT_PROFILE, PROFILES

EXAMPLES = {"dev": 12, "ci": 40, "nightly": 600}
PREFIX = "convspec-"


def _build(name: str) -> settings:
    if name == "dev":
        return settings(max_examples=EXAMPLES["dev"], deadline=None)
    if name == "ci":
        return settings(settings.get_profile("ci"), max_examples=EXAMPLES["ci"])
    return settings(max_examples=EXAMPLES["nightly"], deadline=None,
                    database=DirectoryBasedExampleDatabase(".hypothesis/examples"))


def register(short_names: bool = False) -> None:
    """Register the profiles as ``convspec-NAME`` (and as ``NAME`` when ``short_names``)."""
    for name in PROFILES:
        try:
            settings.get_profile(PREFIX + name)
        except Exception:     # not registered yet (InvalidArgument)
            settings.register_profile(PREFIX + name, _build(name))
        if short_names:
            settings.register_profile(name, settings.get_profile(PREFIX + name))


def get(name: str | None = None) -> settings:
    """The settings of profile ``name`` (dev, ci, nightly; default ci)."""
    name = name or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose from {', '.join(PROFILES)}")
    register()
    return settings.get_profile(PREFIX + name)
