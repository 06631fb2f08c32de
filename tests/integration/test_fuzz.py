"""``convspec fuzz``: usage errors, a default-engine run that stores what it finds, two fuzzing
"machines" sharing a real Redis server whose finding a later gate replays first, the atheris engine
(when the atheris package is installed), and the gate tests as Hypothesis tests for HypoFuzz."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import gallery_path

pytestmark = pytest.mark.fuzz
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEF = "conv2d-matches-definition"
BUG = gallery_path("flipped_kernel")


def _env(**kw):
    e = {k: v for k, v in os.environ.items() if not k.startswith("CONVSPEC_")}
    e.update(kw, PYTHONPATH=ROOT)
    return e


def _fuzz(*args, env=None, timeout=120, wait=True):
    cmd = [sys.executable, "-m", "convspec", "fuzz", "--claims", DEF, "--isolation", "none", *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=ROOT, env=_env(**(env or {})), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    return subprocess.run(cmd, cwd=ROOT, env=_env(**(env or {})), capture_output=True, text=True, timeout=timeout)


def _gate(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "0",
                           "--backends", "none", "--claims", DEF, "--hypothesis-profile", "ci", "--isolation", "none",
                           *args], cwd=ROOT, capture_output=True, text=True, env=_env(**(env or {})), timeout=300)


def test_usage_errors():
    r = _fuzz("--minutes", "0.1")
    assert r.returncode == 2 and "give the implementation to fuzz" in r.stderr
    r = _fuzz("--impl", BUG, "-n", "0")
    assert r.returncode == 2 and "-n 0" in r.stderr
    r = _fuzz("--impl", BUG, "--database", "s3://x")
    assert r.returncode == 2 and "unknown scheme" in r.stderr
    r = _fuzz("--impl", BUG, "--engine", "hypofuzz")
    assert r.returncode == 2 and "non-commercial" in r.stderr and "hypothesis fuzz -- --impl" in r.stderr


def test_default_engine_finds_stores_and_reports(tmp_path):
    db = tmp_path / "db"
    t0 = time.perf_counter()
    r = _fuzz("--impl", BUG, "-n", "1", "--minutes", "0.25", "--seed", "1", env={"CONVSPEC_DATABASE": str(db)})
    assert time.perf_counter() - t0 < 90
    assert r.returncode == 1, r.stderr[-2000:]
    assert "examples/s" in r.stderr and "failures found: 1" in r.stderr
    assert f"test_claim[{DEF}-impl]: found refuted" in r.stdout and "reproduce:" in r.stdout, r.stdout
    assert "problem: n" in r.stdout and "repro conv2d-matches-definition" in r.stdout
    assert any(db.rglob("*")), "nothing stored"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("no redis-server binary on PATH (apt-get install redis-server; .ci/run installs it where apt works)")
    pytest.importorskip("redis", reason="the redis Python package is not installed (pip install 'convspec[redis]')")
    import redis
    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("redis-server did not answer on loopback within 10 s")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_two_machines_share_a_redis_database_and_the_gate_replays_first(redis_url, tmp_path):
    """Two fuzzing processes (two "machines", their own seeds) write to one Redis server on loopback; a
    later gate reading the same database fails on the stored counterexample within its first examples."""
    env = {"CONVSPEC_DATABASE": redis_url}
    machines = [_fuzz("--impl", BUG, "-n", "1", "--minutes", "0.2", "--seed", str(s), env=env, wait=False)
                for s in (11, 22)]
    outs = [m.communicate(timeout=90) for m in machines]
    assert [m.returncode for m in machines] == [1, 1], [o[1][-1500:] for o in outs]
    from convspec.backends.base import load_impl
    from convspec.claims import REGISTRY, load_builtin
    from convspec.search import database
    from convspec.search.engine import database_key
    load_builtin()
    key = database_key(REGISTRY[DEF], load_impl(BUG), "all")
    assert database.count(database.open_database(redis_url), key) >= 1
    g = _gate("--impl", BUG, "--convspec-json", str(tmp_path / "r.json"), env=env)
    assert g.returncode == 1 and "reproduce:" in g.stdout, g.stdout[-2000:]
    row = json.loads((tmp_path / "r.json").read_text())["results"][0]
    assert row["found"] == "refuted" and row["examples"] < 40, row


def test_gate_tests_are_hypothesis_tests_for_hypofuzz():
    """What ``hypothesis fuzz -- --impl X`` collects: the gate tests expected to hold carry the
    ``hypothesis`` marker (Hypothesis's plugin recognised them)."""
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", "-m",
                        "hypothesis", "--impl", BUG, "--backends", "none", "--isolation", "none"], cwd=ROOT,
                       capture_output=True, text=True, env=_env(), timeout=120)
    assert f"convspec::test_claim[{DEF}-impl]" in r.stdout, r.stdout[-2000:]
    assert "test_claim[conv2d-is-convolution-" not in r.stdout       # a refuted claim stays a plain test


def test_atheris_engine(tmp_path):
    pytest.importorskip("atheris", reason="the atheris package is not installed (pip install 'convspec[atheris]')")
    r = _fuzz("--impl", BUG, "-n", "1", "--minutes", "0.2", "--engine", "atheris", env={"CONVSPEC_DATABASE": str(tmp_path)},
              timeout=90)
    assert r.returncode == 1, (r.stdout[-1500:], r.stderr[-1500:])
    assert f"test_claim[{DEF}-impl]: found refuted" in r.stdout
    assert "INFO: Instrumenting" in r.stderr and "Traceback" not in r.stderr.split("Uncaught Python exception")[0]
    from convspec.backends.base import load_impl
    from convspec.claims import REGISTRY, load_builtin
    from convspec.search import database
    from convspec.search.engine import database_key
    load_builtin()
    key = database_key(REGISTRY[DEF], load_impl(BUG), "all")
    assert database.count(database.open_database(str(tmp_path)), key) >= 1     # filed under the gate's key
