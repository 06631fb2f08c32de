"""Where convspec writes and how its commands are spelled.

* Repro files: a failure whose arrays are too large to inline in its repro command is saved as an
  ``.npz`` under :func:`repro_dir`: ``$CONVSPEC_REPRO_DIR`` (set by ``--repro-dir``) or the user cache,
  ``$XDG_CACHE_HOME/convspec/cases`` (``~/.cache/convspec/cases``) -- never the working directory.
* Commands: :func:`program` is how a printed command calls convspec: ``python -m convspec`` where the
  distribution is installed (a wheel or ``pip install -e .``), else ``python -m convspec`` (a checkout
  that was never installed; run it from the checkout).
* Schemas: the JSON Schema files ship inside the package (:func:`schema_path`).
"""

from __future__ import annotations

import os

REPRO_ENV = "CONVSPEC_REPRO_DIR"


def repro_dir() -> str:
    """The directory for repro ``.npz`` files (created on first use)."""
    d = os.environ.get(REPRO_ENV)
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "convspec", "cases")
    return os.path.abspath(d)


def set_repro_dir(path: str | None) -> None:
    """Make ``path`` the repro directory of this process and of the processes it starts."""
    if path:
        os.environ[REPRO_ENV] = os.path.abspath(path)


def program() -> list[str]:
    """argv prefix of a printed convspec command: ``python -m convspec``."""
    return ["python", "-m", "convspec"]


def schema_path(name: str) -> str:
    """Path of a shipped JSON Schema: ``schema_path("convspec-audit")``."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas", name + ".json")
