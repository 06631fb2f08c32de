"""pytest front door of convspec: options, the (claim x backend) parametrisation, known-failure
files, the report header and the JSON report.  The claims themselves live in specs/claims."""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

import pytest

from specs import profiles

profiles.register()

CLAIM_TESTS = "tests/test_claims.py"


def pytest_addoption(parser):
    g = parser.getgroup("convspec")
    g.addoption("--impl", default=os.environ.get("CONVSPEC_IMPL"),
                help="implementation under test: a dotted module or a .py file defining any of conv2d, convolve2d, "
                     "correlate2d (env CONVSPEC_IMPL)")
    g.addoption("--backends", default=os.environ.get("CONVSPEC_BACKENDS"),
                help="built-in backends to run as well: all (default), none, or comma-separated names/prefixes")
    g.addoption("--claims", default=os.environ.get("CONVSPEC_CLAIMS"),
                help="comma-separated globs on claim ids (default: all)")
    g.addoption("--claims-module", action="append", default=[],
                help="a module or .py file registering extra claims with @specs.claims.claim (repeatable)")
    g.addoption("--skips-file", default=os.environ.get("CONVSPEC_SKIPS"),
                help="file of test ids to skip, one per line, '# comment' allowed")
    g.addoption("--xfails-file", default=os.environ.get("CONVSPEC_XFAILS"),
                help="file of test ids expected to fail, one per line, '# comment' allowed")
    g.addoption("--convspec-json", default=None, help="write per-claim results as JSON to this path")
    g.addoption("--call-timeout", type=float, default=None,
                help="per-call time limit in seconds for the implementation under test (default: its own or 60)")


def _impl(config):
    return config.stash.get(_IMPL_KEY, None)


_IMPL_KEY = pytest.StashKey()
_RESULTS_KEY = pytest.StashKey()


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: the CUDA path (numba-cuda kernels, torch on a GPU)")
    config.addinivalue_line("markers", "selftest: convspec's own checks (wrong implementations must be rejected)")
    from hypothesis import settings
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("ci" if os.environ.get("CI") else "dev")
    from specs import backends, claims
    for mod in config.getoption("claims_module"):
        try:
            claims.load_module(mod)
        except Exception as e:
            raise pytest.UsageError(f"--claims-module {mod}: {type(e).__name__}: {e}") from None
    target = config.getoption("impl")
    impl = None
    if target:
        try:
            impl = backends.load_impl(target)
        except backends.ImplError as e:
            raise pytest.UsageError(str(e)) from None
        if config.getoption("call_timeout"):
            from dataclasses import replace
            impl.caps = replace(impl.caps, timeout=config.getoption("call_timeout"))
    config.stash[_IMPL_KEY] = impl
    config.stash[_RESULTS_KEY] = []
    global _CONFIG
    _CONFIG = config
    try:
        backends.select(config.getoption("backends"))
    except backends.ImplError as e:
        raise pytest.UsageError(str(e)) from None


def pytest_report_header(config):
    from hypothesis import settings

    from specs.backends import cuda_env, select
    impl = _impl(config)
    lines = []
    vers = []
    for mod in ("numpy", "scipy", "torch", "hypothesis", "numba"):
        m = sys.modules.get(mod)
        if m is None:
            try:
                m = __import__(mod)
            except ImportError:
                continue
        vers.append(f"{mod} {getattr(m, '__version__', '?')}")
    lines.append("convspec versions: " + ", ".join(vers))
    if impl is not None:
        lines.append(f"convspec implementation: {impl.origin} (provides {', '.join(sorted(impl.provides))})")
        lines.append(f"convspec capabilities: {impl.caps.summary()}")
    bes = select(config.getoption("backends"))
    lines.append("convspec backends: " + (", ".join(b.name for b in bes) or "none"))
    lines.append(f"convspec CUDA mode: {cuda_env.describe()}")
    lines.append(f"convspec profile: {settings.get_current_profile_name()} "
                 f"(max_examples={settings.default.max_examples}, derandomize={settings.default.derandomize})")
    return lines


def _pairs(config):
    from specs import backends
    from specs.claims import all_claims, applicable
    bes = backends.select(config.getoption("backends"))
    impl = _impl(config)
    if impl is not None:
        bes = bes + [impl]
    out = []
    for c in all_claims(config.getoption("claims")):
        for be in bes:
            ok, why = applicable(c, be)
            marks = [pytest.mark.skip(reason=why)] if not ok else []
            if be.name.startswith("numba-cuda") or be.name.startswith("torch-cuda"):
                marks.append(pytest.mark.cuda)
            out.append(pytest.param(c, be, id=f"{c.id}-{be.name}", marks=marks))
    return out


def pytest_generate_tests(metafunc):
    if {"claim", "backend"} <= set(metafunc.fixturenames):
        metafunc.parametrize(("claim", "backend"), _pairs(metafunc.config))


def _read_ids(path):
    ids = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            text, _, comment = line.partition("#")
            text = text.strip()
            if text:
                ids[text] = (comment.strip() or f"listed in {path}:{n}")
    return ids


def pytest_collection_modifyitems(session, config, items):
    if _impl(config) is not None:   # the gate: only the claims run against an implementation
        keep = [i for i in items if i.nodeid.startswith(CLAIM_TESTS)]
        if len(keep) != len(items):
            config.hook.pytest_deselected(items=[i for i in items if i not in keep])
            items[:] = keep
    for opt, mark in (("skips_file", pytest.mark.skip), ("xfails_file", pytest.mark.xfail)):
        path = config.getoption(opt)
        if not path:
            continue
        if not os.path.exists(path):
            raise pytest.UsageError(f"--{opt.replace('_', '-')} {path}: no such file")
        ids = _read_ids(path)
        used = set()
        for item in items:
            for tid, reason in ids.items():
                if tid == item.name or tid == item.nodeid or item.nodeid.endswith(tid):
                    item.add_marker(mark(reason=reason) if mark is pytest.mark.skip else mark(reason=reason, strict=True))
                    used.add(tid)
        for tid in sorted(set(ids) - used):
            warnings.warn(pytest.PytestWarning(f"{path}: id {tid!r} matches no collected test"), stacklevel=2)
            config.stash.setdefault(_UNUSED_KEY, []).append(f"{path}: {tid}")


_UNUSED_KEY = pytest.StashKey()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Collect hypothesis statistics of the engine's inner searches (for --hypothesis-show-statistics)."""
    if "claim" not in getattr(item, "fixturenames", ()):
        yield
        return
    from hypothesis.statistics import collector, describe_statistics
    parts = []

    def note(stats):
        stats["nodeid"] = item.nodeid
        parts.append(describe_statistics(stats))
        item.hypothesis_statistics = "\n".join(parts)

    with collector.with_value(note):
        yield


def pytest_runtest_logreport(report):
    """Gather per-claim rows (on the controller under xdist) for --convspec-json."""
    if _CONFIG is None or not (report.when == "call" or (report.when == "setup" and report.skipped)):
        return
    props = dict(report.user_properties)
    if "convspec" not in props and not (report.skipped and "test_claim[" in report.nodeid):
        return
    row = props.get("convspec") or {"found": "skipped", "reason": str(report.longrepr[-1])}
    _CONFIG.stash[_RESULTS_KEY].append(dict(row, outcome=report.outcome, test=report.nodeid))


_CONFIG = None


@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    unused = config.stash.get(_UNUSED_KEY, [])
    if unused:
        terminalreporter.write_sep("=", "known-failure ids that match nothing")
        for u in unused:
            terminalreporter.write_line(u)


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("convspec_json")
    if not path or hasattr(session.config, "workerinput"):
        return
    rows = session.config.stash.get(_RESULTS_KEY, [])
    doc = {"schema": "convspec-results/1", "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "exitstatus": int(exitstatus), "results": rows}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, default=str)
