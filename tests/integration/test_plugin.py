"""The pytest plugin end to end, through pytest's own ``pytester`` (in-process runs unless noted):
known-failure files (every documented entry form, and what must NOT match), the stale-entry warning,
the two-word ``--impl`` from outside the root directory, ``CONVSPEC_IMPL``, the user's own tests
beside the gate, a plugin that stays inert without an implementation, the JSON and JUnit reports,
``-n 2``; plus one module copy under both import names and declarations that fail loudly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from convspec.errors import ImplError
from convspec.isolation import loader

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
A, B = "conv2d-matches-definition", "answer-formula-is-conv-layer"


def _plugin_args() -> list:
    """``-p convspec.plugin`` where no entry point registers it (an uninstalled checkout)."""
    from importlib import metadata
    installed = any(ep.name == "convspec.plugin" for ep in metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "convspec.plugin"]


PLUGIN = _plugin_args()
ISOLATED_ARGS = [*PLUGIN, "-p", "no:cacheprovider", "--backends", "none", "--claims", f"{A},{B}", "--convspec-profile", "dev"]
ARGS = [*ISOLATED_ARGS, "--isolation", "none"]


def _has(result, *texts) -> None:
    """Each text occurs in the run's stdout (plain substrings: test ids hold brackets, which fnmatch reads
    as character classes)."""
    out = result.stdout.str()
    for t in texts:
        assert t in out, (t, out[-3000:])


def _copy_examples(dest) -> None:
    for f in ("conv_correct.py", "conv_broken.py"):
        shutil.copy(os.path.join(EXAMPLES, f), os.path.join(dest, f))


@pytest.fixture(scope="module", autouse=True)
def _import_first():
    """In-process runs drop the modules they imported first (pytester restores ``sys.modules``), and C
    extensions such as numpy.fft cannot be imported twice: import what the gate uses beforehand."""
    import numpy.fft  # noqa: F401
    import scipy.ndimage  # noqa: F401
    import scipy.signal  # noqa: F401

    from convspec.backends import registry as backends  # noqa: F401
    from convspec.claims import load_builtin
    from convspec.search import engine  # noqa: F401
    from convspec.truth import oracle, reference  # noqa: F401
    load_builtin()
    backends.builtin_names()


@pytest.fixture
def repo(pytester, monkeypatch):
    """A user's repository with the example implementations; no convspec environment variables."""
    for k in list(os.environ):
        if k.startswith("CONVSPEC_"):
            monkeypatch.delenv(k)
    _copy_examples(pytester.path)
    return pytester


# -- known-failure files -------------------------------------------------------------------------------

@pytest.mark.parametrize("entry, skipped, failed", [
    (f"test_claim[{A}-example]", 1, 1),                 # the id pytest prints
    (f"convspec::test_claim[{A}-example]", 1, 1),       # the full node id
    (A, 1, 1),                                          # a claim id: every backend
    ("backend:example", 2, 0),                          # a backend: every claim
])
def test_skips_file_skips_what_it_lists(repo, entry, skipped, failed):
    (repo.path / "skips.txt").write_text(f"{entry}   # we flip kernels on purpose\n")
    r = repo.runpytest("--impl", "conv_broken.py", *ARGS, "--skips-file", "skips.txt", "-rs")
    r.assert_outcomes(skipped=skipped, failed=failed)
    r.stdout.fnmatch_lines(["*we flip kernels on purpose*"])
    assert "unexpected keyword argument 'strict'" not in r.stdout.str()


@pytest.mark.parametrize("entry", [f"test_claim[{A}-exam", f"{A[5:]}-example]", "conv2d", "backend:exam"])
def test_known_failure_entries_match_exactly(repo, entry):
    """A prefix or suffix of an id matches nothing (the old ``endswith`` rule matched too much): it warns."""
    (repo.path / "skips.txt").write_text(entry + "\n")
    r = repo.runpytest("--impl", "conv_broken.py", *ARGS, "--skips-file", "skips.txt")
    r.assert_outcomes(failed=2)
    _has(r, "convspec: known-failure entries that match nothing", f"entry {entry!r} matches no collected test")


def test_xfails_file_strict(repo):
    (repo.path / "xfails.txt").write_text(f"test_claim[{A}-example]  # known\n{B}\nno-such-claim  # stale\n")
    r = repo.runpytest("--impl", "conv_broken.py", *ARGS, "--xfails-file", "xfails.txt")
    r.assert_outcomes(xfailed=2)
    assert r.ret == 0
    r.stdout.fnmatch_lines(["*ConvspecWarning*no-such-claim*matches no collected test*",
                            "*known-failure entries that match nothing*", "*no-such-claim*"])
    fixed = repo.runpytest("--impl", "conv_correct.py", *ARGS, "--xfails-file", "xfails.txt")
    assert fixed.ret == 1       # a listed test that passes fails the run: remove its entry
    fixed.stdout.fnmatch_lines(["*XPASS(strict)*"])


def test_missing_known_failure_file_is_a_usage_error(repo):
    r = repo.runpytest("--impl", "conv_broken.py", *ARGS, "--skips-file", "nope.txt")
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*--skips-file nope.txt: no such file*"])


# -- the gate from anywhere ----------------------------------------------------------------------------

def test_two_word_impl_outside_rootdir(repo, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    _copy_examples(elsewhere)
    r = repo.runpytest("--impl", str(elsewhere / "conv_broken.py"), *ARGS)
    assert r.ret == 1
    # pytest picks its root directory from the path before any plugin loads: the display may say ../convspec::
    _has(r, "reproduce:", "python -m convspec repro", f"convspec::test_claim[{A}-example] - Failed")
    ok = repo.runpytest("--impl", str(elsewhere / "conv_correct.py"), *ARGS)
    assert ok.ret == 0
    ok.assert_outcomes(passed=2)


def test_environment_variable(repo, monkeypatch):
    monkeypatch.setenv("CONVSPEC_IMPL", "conv_broken")
    monkeypatch.syspath_prepend(str(repo.path))
    r = repo.runpytest(*ARGS)
    assert r.ret == 1
    _has(r, f"FAILED convspec::test_claim[{A}-example]")


def test_user_tests_run_beside_the_gate_only_when_asked(repo):
    repo.makepyfile(test_mine="def test_mine():\n    pass\n")
    both = repo.runpytest("--impl", "conv_correct.py", *ARGS, "test_mine.py", "-v")
    both.assert_outcomes(passed=3)
    _has(both, "test_mine.py::test_mine PASSED", f"convspec::test_claim[{A}-example] PASSED")
    gate_only = repo.runpytest("--impl", "conv_correct.py", *ARGS)
    gate_only.assert_outcomes(passed=2)


def test_inert_without_an_implementation(repo):
    repo.makepyfile(test_mine="def test_mine():\n    pass\n",
                    test_params="def test_uses_the_names(claim, backend):\n    pass\n")
    r = repo.runpytest(*PLUGIN, "-p", "no:cacheprovider")
    r.assert_outcomes(passed=1, errors=1)           # claim/backend of a user's test are not ours to fill
    assert "convspec versions" not in r.stdout.str()


def test_process_isolation_is_the_default(repo):
    r = repo.runpytest("--impl", "conv_broken.py", *ISOLATED_ARGS, "-v")
    assert r.ret == 1
    out = r.stdout.str()
    assert ("runs in a worker process" in out) or ("process isolation is not available" in r.stderr.str()), out[-2000:]


def test_reports_json_and_junit(repo):
    r = repo.runpytest("--impl", "conv_broken.py", *ARGS, "--convspec-json", "r.json", "--junitxml", "j.xml")
    assert r.ret == 1
    from convspec.reporting.results import validate
    doc = json.loads((repo.path / "r.json").read_text())
    validate(doc)
    assert doc["exitstatus"] == 1 and doc["impl"] == "conv_broken.py" and doc["profile"] == "dev"
    rows = {row["test"]: row for row in doc["results"]}
    row = rows[f"test_claim[{A}-example]"]
    assert row["outcome"] == "failed" and row["found"] == "refuted" and row["matches_expected"] is False
    cex = row["counterexample"]
    assert isinstance(cex, dict) and cex["problem"].startswith("n") and "repro" in cex and cex["worst"]["ratio"] is None
    assert "exact equality" in cex["error"]
    props = [p.get("value") for p in ET.parse(repo.path / "j.xml").iter("property") if p.get("name") == "convspec"]
    assert len(props) == 2
    assert {json.loads(v)["claim"] for v in props} == {A, B}


def test_xdist_known_failures_and_report(repo):
    """``-n 2``: xfails apply on the workers, the stale-entry summary appears once, rows reach the report."""
    (repo.path / "xfails.txt").write_text(f"{A}\n{B}\nno-such-claim\n")
    r = repo.runpytest_subprocess("--impl", "conv_broken.py", *ARGS, "-n", "2", "--xfails-file", "xfails.txt",
                                  "--convspec-json", "r.json", timeout=300)
    assert r.ret == 0, r.stdout.str()[-3000:]
    r.stdout.fnmatch_lines(["*2 xfailed*"])
    assert r.stdout.str().count("known-failure entries that match nothing") == 1
    doc = json.loads((repo.path / "r.json").read_text())
    assert sorted(row["outcome"] for row in doc["results"]) == ["xfailed", "xfailed"]


# -- one package name -----------------------------------------------------------------------------------

def test_one_package_name():
    """``convspec`` is the only name: the claims are ``convspec.specs``, ``specs`` is no importable package
    and nothing stands on ``sys.meta_path`` for it."""
    code = ("import importlib.util, sys, convspec, convspec.specs, convspec.claims; "
            "assert importlib.util.find_spec('specs') is None, 'specs importable'; "
            "assert not [f for f in sys.meta_path if 'Alias' in type(f).__name__]; print('one')")
    r = subprocess.run([sys.executable, "-c", code], cwd=os.path.dirname(ROOT), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "one" in r.stdout, r.stderr
    r = subprocess.run([sys.executable, "-m", "convspec", "--version"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("convspec "), r.stderr


# -- declarations that fail loudly ---------------------------------------------------------------------

def test_declarations_fail_loudly():
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument

    from convspec.claims import HOLDS, REGISTRY, claim
    from convspec.drawing import strategies
    from convspec.errors import InvalidClaim

    def declare(**kw):
        base = dict(id="selftest-declaration", statement="s", source="selftest", needs={"conv2d"}, expected=HOLDS,
                    cases=strategies.conv())
        base.update(kw)
        return claim(**base)

    with pytest.raises(InvalidClaim, match=r"requires=\{'determinstic'\}.*unknown word"):
        declare(requires={"determinstic"})
    with pytest.raises(InvalidArgument, match=r"needs=\{'conv2D'\}.*unknown op"):
        declare(needs={"conv2d", "conv2D"})
    with pytest.raises(InvalidClaim, match="requires=.*one string"):
        declare(requires="deterministic")
    with pytest.raises(InvalidClaim, match="cases= must be a hypothesis strategy or a function"):
        declare(cases=42)
    with pytest.raises(InvalidClaim, match="expected="):
        declare(expected="hold")
    with pytest.raises(InvalidClaim, match="dtype"):
        declare(requires={"dtype:f33"})
    for bad in ("flipped-kernel", "tests/gallery/impls/flipped_kernel.py", 42):
        with pytest.raises(InvalidClaim, match="twin=.*module name"):
            declare(twin=bad)
    try:                                         # a strategy and a factory are both accepted
        s = st.just(None)
        c1 = declare(id="selftest-strategy", cases=s)(lambda be, case: None)
        c2 = declare(id="selftest-factory", cases=lambda be: s)(lambda be, case: None)
        assert c1.cases(None) is s and c2.cases(None) is s
        gpu = declare(id="selftest-gpu", needs={"conv2d"}, requires={"gpu", "mode:native"})(lambda be, c: None)
        assert gpu.needs == {"conv2d"} and gpu.requires == {"gpu", "mode:native"} and gpu.twin == ""
        twinned = declare(id="selftest-twinned", twin="flipped_kernel")(lambda be, c: None)
        assert twinned.twin == "flipped_kernel"
        with pytest.raises(InvalidClaim, match="unknown op 'cuda.device'"):
            declare(id="selftest-old-gpu", needs={"conv2d", "cuda.device"})
    finally:
        for k in ("selftest-strategy", "selftest-factory", "selftest-gpu", "selftest-twinned"):
            REGISTRY.pop(k, None)


def test_gpu_is_a_capability_not_an_op_or_a_name():
    from convspec.backends.base import Backend, Capabilities
    from convspec.claims import REGISTRY, applicable, load_builtin
    load_builtin()
    cpu = Backend("numba-cuda-but-cpu", {"conv2d": lambda *a, **k: None})
    gpu = Backend("plain", {"conv2d": lambda *a, **k: None}, Capabilities(gpu=True))
    cuda_claims = [c for c in REGISTRY.values() if "gpu" in c.requires]
    assert cuda_claims, "the CUDA claims require the gpu capability"
    c = cuda_claims[0]
    assert not applicable(c, cpu)[0] and "GPU" in applicable(c, cpu)[1]
    assert applicable(c, gpu)[0] or "gpu" not in applicable(c, gpu)[1]


def test_every_backend_op_is_declared():
    """Claims check their needs against OPS; every op a built-in backend provides is declared there."""
    from convspec.backends import registry as backends
    from convspec.backends.base import OPS
    from convspec.claims import load_builtin
    load_builtin()
    for name in backends.builtin_names():
        be = backends.get(name)
        assert be.provides <= set(OPS), (name, sorted(be.provides - set(OPS)))


def test_isolation_options():
    """--isolation none loads in-process; --memory-limit needs a worker; a bad isolation word is named."""
    path = os.path.join(EXAMPLES, "conv_correct.py")
    be = loader.load(path, isolation="none", timeout=7)
    assert be.caps.timeout == 7 and getattr(be, "worker", None) is None
    assert be.repro_args[:2] == ("--impl", path) and "--isolation" in be.repro_args
    with pytest.raises(ImplError, match="--memory-limit needs --isolation process"):
        loader.load(path, isolation="none", memory_limit_mb=100)
    with pytest.raises(ImplError, match="--isolation"):
        loader.load(path, isolation="thread")


# -- gate tests are Hypothesis tests -------------------------------------------------------------------

def _items(repo, *args):
    """The items after collection (every plugin's collection_modifyitems applied)."""
    rec = repo.inline_run("--collect-only", *args)
    return rec.getcalls("pytest_collection_modifyitems")[0].items, rec


def test_holds_claims_are_hypothesis_tests(repo):
    """A claim expected to hold is collected with ``obj`` the ``@given`` test (Hypothesis's plugin marks
    it); a refuted claim stays the plain gate function; the failure report stays convspec's."""
    from hypothesis import is_hypothesis_test

    from convspec import gate
    from convspec.gate import ClaimTest
    items, _ = _items(repo, "--impl", "conv_broken.py", *ARGS)
    by = {i.name: i for i in items}
    a = by[f"test_claim[{A}-example]"]
    assert isinstance(a, ClaimTest) and is_hypothesis_test(a.obj) and a.get_closest_marker("hypothesis")
    assert a.obj._hypothesis_internal_database_key == __import__("convspec.search.engine").search.engine.database_key(
        a.callspec.params["claim"], a.callspec.params["backend"], "all")
    refuted = [i for i in items if i.callspec.params["claim"].expected != "holds"]
    assert all(getattr(i, "function", None) is gate.test_claim for i in refuted)


def test_hypothesis_options_reach_the_gate_tests(repo):
    r = repo.runpytest("--impl", "conv_broken.py", *ARGS, "--claims", A, "--hypothesis-show-statistics",
                       "--hypothesis-seed", "5", "--hypothesis-explain")
    assert r.ret == 1
    _has(r, "Hypothesis Statistics", f"test_claim[{A}-example]", "reproduce:", "worst element")
    items, _ = _items(repo, "--impl", "conv_correct.py", *ARGS, "--hypothesis-seed", "5", "--hypothesis-explain")
    assert items
    from hypothesis import Phase
    for i in items:
        if hasattr(i.obj, "hypothesis"):
            assert i.obj._hypothesis_internal_use_seed == 5
            assert Phase.explain in i.obj._hypothesis_internal_use_settings.phases


def test_database_option_is_read_only_and_overrides_the_profile(repo, monkeypatch):
    from hypothesis.database import ReadOnlyDatabase
    monkeypatch.setenv("CONVSPEC_DATABASE", str(repo.path / "db"))
    items, _ = _items(repo, "--impl", "conv_correct.py", *ARGS, "--convspec-profile", "ci")
    dbs = [i.obj._hypothesis_internal_use_settings.database for i in items if hasattr(i.obj, "hypothesis")]
    assert dbs and all(isinstance(d, ReadOnlyDatabase) for d in dbs)
    bad = repo.runpytest("--impl", "conv_correct.py", *ARGS, "--convspec-database", "s3://x")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


def test_under_hypofuzz_the_tests_are_random_and_use_the_default_database(repo, monkeypatch):
    """HypoFuzz (``hypothesis fuzz -- --impl X``) fuzzes only tests that are not derandomized and use the
    default settings' database; the gate builds them so when ``hypofuzz`` is imported (it collects in-process)."""
    import types

    from hypothesis import settings
    monkeypatch.setitem(sys.modules, "hypofuzz", types.ModuleType("hypofuzz"))
    items, _ = _items(repo, "--impl", "conv_correct.py", *ARGS, "--convspec-profile", "ci")
    objs = [i.obj for i in items if hasattr(i.obj, "hypothesis")]
    assert objs
    for o in objs:
        s = o._hypothesis_internal_use_settings
        assert not s.derandomize and s.database == settings().database
