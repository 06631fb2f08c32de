"""Loading the implementation under test: in a worker process (the default) or in this one.

The one place that chooses between :func:`convspec.isolation.supervisor.load_isolated` and
:func:`convspec.backends.base.load_impl`; the command line, the pytest plugin and ``convspec fuzz``
call :func:`load`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace

from convspec.backends.base import Backend, _is_path, load_impl
from convspec.backends.probe import probe
from convspec.errors import ImplError
from convspec.isolation.supervisor import load_isolated


def _importable_from_cwd(target: str) -> None:
    """A dotted --impl resolves from the working directory, as it does under ``python -m pytest``."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def load(target: str | None = None, *, cmd: str | None = None, isolation: str = "process",
         timeout: float | None = None, memory_limit_mb: float | None = None, warn=None) -> Backend:
    """Load the implementation under test from ``--impl TARGET`` or ``--impl-cmd CMD``.

    ``isolation="process"`` (the default) runs it in a worker process (:func:`~convspec.isolation.supervisor.load_isolated`):
    crashes and hangs become ordinary failures.  ``"none"`` imports it here (:func:`load_impl`).
    ``--impl-cmd`` always runs in a worker.  ``timeout`` overrides the per-call limit, ``memory_limit_mb``
    caps the worker's memory.  ``warn(message)`` receives notes (default: stderr).  Raises
    :class:`ImplError` with a one-line message.
    """
    if (target is None) == (cmd is None):
        raise ImplError("give exactly one of --impl and --impl-cmd")
    if isolation not in ("process", "none"):
        raise ImplError(f"--isolation must be 'process' or 'none', not {isolation!r}")
    if memory_limit_mb is not None and memory_limit_mb <= 0:
        raise ImplError(f"--memory-limit must be a positive number of MiB, not {memory_limit_mb!r}")
    if cmd is None and isolation == "none" and memory_limit_mb is not None:
        raise ImplError("--memory-limit needs --isolation process (a limit on the test process itself would "
                        "end the run)")
    warn = warn or (lambda m: print(f"convspec: {m}", file=sys.stderr))
    if target is not None and not _is_path(target):
        _importable_from_cwd(target)
    args = ("--impl-cmd", cmd) if cmd is not None else ("--impl", target)
    if cmd is not None or isolation == "process":
        be = load_isolated(target, cmd=cmd, timeout=timeout, memory_limit_mb=memory_limit_mb)
        extra = (("--call-timeout", f"{timeout:g}") if timeout else ()) + (
            ("--memory-limit", f"{memory_limit_mb:g}") if memory_limit_mb else ())
        be.repro_args = args + extra
        return probe(be)
    be = load_impl(target)
    if timeout:
        be.caps = replace(be.caps, timeout=timeout)
    be.repro_args = args + ("--isolation", "none") + (("--call-timeout", f"{timeout:g}") if timeout else ())
    return probe(be)     # what the implementation did not declare is probed: nothing goes untested
