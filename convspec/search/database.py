"""The shared example database: where ``convspec fuzz`` stores every counterexample it finds and from
which the gate replays them first.

One setting chooses it, ``--convspec-database`` (pytest; ``--database`` on ``convspec fuzz`` and
``convspec audit``) or ``CONVSPEC_DATABASE``:

* a directory path -- :class:`hypothesis.database.DirectoryBasedExampleDatabase` (one machine, or a
  CI cache/artifact);
* ``redis://host:port/db`` -- :class:`hypothesis.extra.redis.RedisExampleDatabase` (many machines;
  needs the ``redis`` package: ``pip install convspec[redis]``).

Keys are :func:`convspec.search.engine.database_key`: a hash of (claim id, backend name, domain), stable from
run to run and version to version, so a PR gate of implementation ``X`` replays exactly what fuzzing
stored for the tests of ``X``.  The gate reads through :class:`hypothesis.database.ReadOnlyDatabase`
(:func:`gate_view`): it replays (Hypothesis's reuse phase, before any generation, in a fixed order)
and shrinks in memory, but never writes.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase, ReadOnlyDatabase

from convspec.errors import DatabaseError

ENV = "CONVSPEC_DATABASE"


def open_database(spec: str) -> ExampleDatabase:
    """The writable example database named by ``spec`` (a directory path or ``redis://host:port/db``)."""
    if not isinstance(spec, str) or not spec.strip():
        raise DatabaseError(f"--convspec-database / {ENV}: expected a directory path or redis://host:port/db, "
                            f"not {spec!r}")
    spec = spec.strip()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        try:
            import redis  # lazy: an optional extra, for a redis:// database only
        except ImportError:
            raise DatabaseError(f"--convspec-database {spec}: a Redis database needs the redis package "
                                "(pip install 'convspec[redis]')") from None
        from hypothesis.extra.redis import RedisExampleDatabase  # lazy: it imports redis (above)
        u = urlparse(spec)
        if u.scheme != "unix" and not u.hostname:
            raise DatabaseError(f"--convspec-database {spec}: no host (expected redis://host:port/db)")
        return RedisExampleDatabase(redis.Redis.from_url(spec), key_prefix=b"convspec:")
    if "://" in spec:
        raise DatabaseError(f"--convspec-database {spec}: unknown scheme (a directory path or redis://host:port/db)")
    path = os.path.abspath(os.path.expanduser(spec))
    if os.path.exists(path) and not os.path.isdir(path):
        raise DatabaseError(f"--convspec-database {spec}: exists and is not a directory")
    return DirectoryBasedExampleDatabase(path)


def gate_view(spec: str | None) -> ExampleDatabase | None:
    """The gate's read-only view of the shared database ``spec`` (None: no shared database)."""
    if not spec:
        return None
    return ReadOnlyDatabase(open_database(spec))


def describe(spec: str | None) -> str:
    return "none" if not spec else (spec if "://" in spec else os.path.abspath(os.path.expanduser(spec)))


class Rekeyed(ExampleDatabase):
    """A view of ``db`` that files what Hypothesis writes under ``from_key`` as ``to_key``.

    :meth:`hypothesis.core.HypothesisHandle.fuzz_one_input` saves failures under a key of its own (a
    digest of the test's source plus ``.secondary``); the atheris engine maps it onto the test's stable
    primary key (:func:`convspec.search.engine.database_key`), which the gate replays first."""

    def __init__(self, db: ExampleDatabase, from_key: bytes, to_key: bytes):
        super().__init__()
        self.db, self.from_key, self.to_key = db, from_key, to_key

    def _k(self, key: bytes) -> bytes:
        return self.to_key if key == self.from_key else key

    def save(self, key, value):
        self.db.save(self._k(key), value)

    def fetch(self, key):
        yield from self.db.fetch(self._k(key))

    def delete(self, key, value):
        self.db.delete(self._k(key), value)

    def move(self, src, dest, value):
        self.db.move(self._k(src), self._k(dest), value)


def count(db: ExampleDatabase, key: bytes) -> int:
    """How many entries ``db`` holds under ``key``."""
    return sum(1 for _ in db.fetch(key))
