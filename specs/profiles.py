"""Hypothesis profiles.  Select one with ``--hypothesis-profile NAME`` (pytest) or ``--profile`` (CLI).

* ``dev``     -- fast local iteration (default outside CI).
* ``ci``      -- the gate: Hypothesis's own ``ci`` profile (derandomized, no database, no deadline)
  with convspec's example budget on top; loaded automatically when the CI variable is set.
* ``nightly`` -- many examples, random seeds, an example database in .hypothesis/.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

EXAMPLES = {"dev": 12, "ci": 40, "nightly": 600}
_DONE = False


def register() -> None:
    global _DONE
    if _DONE:
        return
    settings.register_profile("dev", max_examples=EXAMPLES["dev"], deadline=None)
    settings.register_profile("ci", parent=settings.get_profile("ci"), max_examples=EXAMPLES["ci"])
    settings.register_profile("nightly", max_examples=EXAMPLES["nightly"], deadline=None,
                              database=DirectoryBasedExampleDatabase(".hypothesis/examples"))
    _DONE = True


def get(name: str) -> settings:
    register()
    return settings.get_profile(name)
