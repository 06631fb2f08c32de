"""The shared example database: the setting (a directory, redis://, bad values named), the gate's
read-only view, keys kept with a seed, and a gate that replays a stored counterexample first -- for a
bug its own derandomized examples miss (tests/gallery/impls_fuzz/rare_seven_channels.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from hypothesis import Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase, InMemoryExampleDatabase, ReadOnlyDatabase

from convspec.claims import REGISTRY, load_builtin
from convspec.errors import DatabaseError
from convspec.search import database
from convspec.search.engine import build_test, database_key, run_built
from tests.conftest import gallery_path

load_builtin()
pytestmark = pytest.mark.fuzz
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEF = "conv2d-matches-definition"
RARE = os.path.join(ROOT, "tests", "gallery", "impls_fuzz", "rare_seven_channels.py")


def test_the_setting(tmp_path):
    db = database.open_database(str(tmp_path / "db"))
    assert isinstance(db, DirectoryBasedExampleDatabase)
    assert isinstance(database.gate_view(str(tmp_path / "db")), ReadOnlyDatabase)
    assert database.gate_view(None) is None and database.gate_view("") is None
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatabaseError, match="not a directory"):
        database.open_database(str(tmp_path / "file"))
    with pytest.raises(DatabaseError, match="unknown scheme"):
        database.open_database("s3://bucket/db")
    try:
        import redis  # noqa: F401
    except ImportError:
        with pytest.raises(DatabaseError, match="needs the redis package"):
            database.open_database("redis://127.0.0.1:6379/0")
    else:
        from hypothesis.extra.redis import RedisExampleDatabase
        assert isinstance(database.open_database("redis://127.0.0.1:1/0"), RedisExampleDatabase)  # connects lazily
        with pytest.raises(DatabaseError, match="no host"):
            database.open_database("redis:///0")


def _found_by(be, base, db, seed=None):
    """Search without the pinned examples (a failure of an explicit example is never stored)."""
    fn = build_test(replace(REGISTRY[DEF], examples=()), be, "all", base, seed, database=db)
    return fn, run_built(fn)


def test_a_seed_keeps_the_database_and_the_view_never_writes():
    from convspec.backends.base import load_impl
    be = load_impl(gallery_path("flipped_kernel"))
    store = InMemoryExampleDatabase()
    base = settings(settings.default, max_examples=30, derandomize=False)
    fn, s = _found_by(be, base, store, seed=7)      # @seed alone would turn the database off
    assert s.failure is not None
    key = database_key(REGISTRY[DEF], be, "all")
    assert fn._hypothesis_internal_database_key == key and database.count(store, key) >= 1
    before = {k: set(v) for k, v in store.data.items()}
    view = ReadOnlyDatabase(store)
    again, s2 = _found_by(be, settings(base, phases=(Phase.reuse,)), view, seed=8)
    assert s2.failure is not None and again.convspec.count <= 3, again.convspec.count   # replayed, not generated
    assert {k: set(v) for k, v in store.data.items()} == before


def test_rekeyed_files_fuzz_one_input_failures_under_the_primary_key():
    store = InMemoryExampleDatabase()
    r = database.Rekeyed(store, b"fuzz.secondary", b"primary")
    r.save(b"fuzz.secondary", b"v")
    r.save(b"other", b"w")
    assert set(store.fetch(b"primary")) == {b"v"} and set(r.fetch(b"fuzz.secondary")) == {b"v"}
    r.delete(b"fuzz.secondary", b"v")
    assert not set(store.fetch(b"primary")) and set(store.fetch(b"other")) == {b"w"}


def _gate(*args, env=None, timeout=300):
    e = {k: v for k, v in os.environ.items() if not k.startswith("CONVSPEC_")}
    # the covering-array rows would find the rare bug themselves (docs/coverage.md): this is about the database
    e.update(env or {}, PYTHONPATH=ROOT, CONVSPEC_ROWS="0")
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "0",
                           "--backends", "none", "--claims", DEF, "--hypothesis-profile", "ci", *args],
                          cwd=ROOT, capture_output=True, text=True, env=e, timeout=timeout)


def test_the_gate_replays_a_stored_counterexample_first(tmp_path, monkeypatch):
    """A counterexample stored under the test's key (as fuzzing stores it) fails the gate at once; without
    the database the gate's own derandomized examples miss the bug (the covering-array rows set aside: they
    find it themselves)."""
    from convspec.search import engine
    monkeypatch.setattr(engine, "ROWS_ENABLED", False)
    from convspec.backends.base import load_impl
    be = load_impl(RARE)
    dbdir = str(tmp_path / "db")
    store = database.open_database(dbdir)
    base = settings(settings.default, max_examples=4000, derandomize=False, phases=(Phase.generate, Phase.shrink))
    fn, s = _found_by(be, base, store, seed=3)      # a long search stands in for the fuzzer
    assert s.failure is not None, "the long search did not find the planted bug"
    impl = ["--impl", RARE, "--isolation", "none"]
    hit = _gate(*impl, "--convspec-json", str(tmp_path / "r.json"), env={"CONVSPEC_DATABASE": dbdir})
    assert hit.returncode == 1, hit.stdout[-2000:]
    assert "reproduce:" in hit.stdout and "_o7k" in hit.stdout
    row = json.loads((tmp_path / "r.json").read_text())["results"][0]
    assert row["found"] == "refuted" and row["examples"] < 200, row      # the replay, then a short shrink
    opt = _gate(*impl, "--convspec-database", dbdir)
    assert opt.returncode == 1
    assert database.count(store, database_key(REGISTRY[DEF], be, "all")) >= 1     # the gate never deletes
