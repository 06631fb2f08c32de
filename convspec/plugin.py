"""convspec's pytest plugin: ``pip install convspec`` registers it (entry point ``pytest11``, named
``convspec.plugin`` like this module, so ``-p convspec.plugin`` and the entry point never register it
twice; ``-p no:convspec.plugin`` turns it off).  The checkout's conftest.py makes the same module
available there.

This module holds no state.  Its two module-level hooks declare the options (:mod:`convspec.options`,
shared with the ``convspec`` command line) and, at configure time, register one :class:`Gate` per
pytest ``Config``; every other hook is a method of that object, so nested or parallel sessions
(pytester, xdist workers) never share anything.

**The gate.**  When an implementation is given -- ``pytest --impl=mypkg.conv``, ``pytest --impl
path/conv.py`` (two words work: the option exists before pytest parses the arguments),
``CONVSPEC_IMPL=mypkg.conv pytest``, ``--impl-cmd "server args"``, or ``convspec gate mypkg.conv``
(which runs pytest) -- the gate tests of :mod:`convspec.gate` are collected under the node id
``convspec``: ``convspec::test_claim[<claim id>-<backend>]``, from any directory.  Without test paths
on the command line only the gate runs; with paths (``pytest --impl X tests/``) the user's own tests
run beside it.  Nothing changes for a run without an implementation.

**Known failures.**  ``--skips-file``/``--xfails-file`` list one entry per line, ``# reason`` allowed:

* ``test_claim[CLAIM-BACKEND]`` (the id pytest prints) or any full node id -- exactly that test;
* ``CLAIM`` -- that claim on every backend;
* ``backend:NAME`` -- every claim on that backend.

An entry that matches no collected test gives a ``ConvspecWarning`` and a line in the summary.
Xfails are strict: a listed test that passes fails the run (remove the entry).

**Hypothesis tests.**  Every claim test whose claim is expected to hold (every ``--impl`` gate test
among them) is collected as a :class:`convspec.gate.ClaimTest`: a pytest ``Function`` whose ``obj`` is the
``@given`` test built by :func:`convspec.search.engine.build_test`, so Hypothesis's pytest plugin
(``--hypothesis-seed``, ``--hypothesis-show-statistics``, ``--hypothesis-explain``), ``fuzz_one_input``
and HypoFuzz see a Hypothesis test.  Its failure report is convspec's (descriptor, worst element,
repro command).  Refuted and conditional claims run their searches through
:func:`convspec.search.engine.run_claim` in the plain function :func:`convspec.gate.test_claim`.

**Shared example database.**  ``--convspec-database DIR|redis://host:port/db`` (``CONVSPEC_DATABASE``)
is read through a read-only view (:mod:`convspec.search.database`): every test first replays what ``convspec
fuzz`` stored for it, then generates.  It overrides the profile's own database (``ci`` has none).

**Reports.**  Each gate test stores its outcome (:func:`convspec.reporting.results.outcome_dict`) as the JUnit
property ``convspec`` (JSON); ``--convspec-json PATH`` writes them all (schema ``convspec-results/2``).

**Imports.**  The entry point loads this module into every pytest run, convspec's or not, so it imports
pytest, the standard library, :mod:`convspec.options` and :mod:`convspec.gate` only; the engine (numpy,
hypothesis, the claims) is imported inside the hooks, when the run uses it (each such import says so).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import pytest

from convspec import __version__, gate, options
from convspec.backends import cuda_env
from convspec.gate import PLUGIN_NAME, ClaimTest, claim_and_backend
from convspec.model.ops import CONTRACT, op_kind
from convspec.reporting import paths

GATE_NODEID = "convspec"


class ConvspecWarning(pytest.PytestWarning):
    """A convspec configuration problem that does not stop the run (e.g. a stale known-failure id)."""


# -- module-level hooks: options, and one Gate per Config ----------------------------------------------

def pytest_addoption(parser, pluginmanager):
    from convspec.search import profiles  # lazy: hypothesis (0.1 s), once pytest asks for the options
    options.add_to_pytest(parser)
    parser.addini("convspec_header", type="bool", default=False,
                  help="show convspec's report header lines even without --impl (the convspec checkout sets it)")
    profiles.register()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: a CUDA path (a backend whose capabilities say gpu)")
    config.addinivalue_line("markers", "convspec: a convspec claim test (test_claim[<claim>-<backend>])")
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(Gate(config), PLUGIN_NAME)


# -- known-failure files -----------------------------------------------------------------------------

def read_ids(path: str) -> dict:
    """Entries of a skips/xfails file: {entry: reason}."""
    ids = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            text, _, comment = line.partition("#")
            text = text.strip()
            if text:
                ids[text] = comment.strip() or f"listed in {path}:{n}"
    return ids


def entry_matches(entry: str, name: str, nodeid: str, claim_id: str | None, backend: str | None) -> bool:
    """Whether a known-failure entry names a test (exact id, claim id, or ``backend:NAME``)."""
    if entry in (name, nodeid):
        return True
    if claim_id is not None and entry == claim_id:
        return True
    return backend is not None and entry.startswith("backend:") and entry[len("backend:"):].strip() == backend


# -- the gate ------------------------------------------------------------------------------------------

class GateModule(pytest.Module):
    """The gate tests (:mod:`convspec.gate`), collected under the node id ``convspec`` wherever pytest runs."""


def under_hypofuzz() -> bool:
    """Whether this pytest runs inside HypoFuzz (``hypothesis fuzz``), which imports ``hypofuzz`` first."""
    return "hypofuzz" in sys.modules


class Gate:
    """Per-``Config`` state and hooks: the implementation, the parametrisation, known-failure files,
    the header, the result rows and the JSON report."""

    def __init__(self, config):
        self.config = config
        self.rows: list = []
        self.unused: list = []
        self.skipped_by_file: set = set()
        paths.set_repro_dir(config.getoption("repro_dir"))
        for mod in config.getoption("claims_module") or []:
            from convspec import claims  # lazy: the claims (numpy, hypothesis), for a run given --claims-module
            try:
                claims.load_module(mod)
            except Exception as e:
                raise pytest.UsageError(f"--claims-module {mod}: {type(e).__name__}: {e}") from None
        self._builtins = None
        self.impl = self._load_impl()
        self.active = self.impl is not None
        if self.active:
            _ = self.builtins           # a bad --backends is a usage error now, not at collection
            if config.args_source != pytest.Config.ArgsSource.ARGS:
                config.args = []        # no test paths given: the gate alone, from any directory

    @property
    def builtins(self) -> list:
        """The selected built-in backends (loaded on first use: a run without the gate imports none).  With an
        implementation under test and no ``--backends``, none: the gate judges the implementation alone."""
        if self._builtins is None:
            from convspec.backends import registry as backends  # lazy: the backends (numpy, scipy, torch ...)
            from convspec.errors import ImplError
            spec = self.config.getoption("backends")
            if spec is None and self.impl is not None:
                spec = "none"
            try:
                self._builtins = backends.select(spec)
            except ImplError as e:
                raise pytest.UsageError(str(e)) from None
        return self._builtins

    def _load_impl(self):
        c = self.config
        target, cmd = c.getoption("impl"), c.getoption("impl_cmd")
        if not target and not cmd:
            return None
        if target and cmd:
            raise pytest.UsageError("give --impl or --impl-cmd, not both")
        from convspec.errors import ImplError
        from convspec.isolation import loader  # lazy: the worker machinery (numpy), for a run with an implementation
        try:
            return loader.load(target or None, cmd=cmd or None, isolation=c.getoption("isolation"),
                               timeout=c.getoption("call_timeout"), memory_limit_mb=c.getoption("memory_limit"),
                               warn=lambda m: sys.stderr.write(f"convspec: {m}\n"))
        except ImplError as e:
            raise pytest.UsageError(str(e)) from None

    # settings of the gate's searches
    def settings(self):
        """The example budget: --convspec-profile, else --hypothesis-profile (already loaded), else ci."""
        from hypothesis import settings  # lazy: hypothesis (0.1 s), when a claim test is built or run

        from convspec.search import profiles
        name = self.config.getoption("convspec_profile")
        if not name and self.config.getoption("hypothesis_profile", None):
            base = settings.default
        else:
            base = profiles.get(name)
        if under_hypofuzz():     # HypoFuzz fuzzes only random tests that use the default settings' database
            self.database()
            return settings(base, derandomize=False, database=settings().database)
        db = self.database()
        return base if db is None else settings(base, database=db)

    def database(self):
        """The read-only view of the shared example database (``--convspec-database``), or None.

        Under HypoFuzz (``hypothesis fuzz``, a fuzzer like ``convspec fuzz``) the shared database itself
        becomes the database of Hypothesis's current profile (HypoFuzz writes to that one only), and
        the tests use it (:meth:`settings`)."""
        if not hasattr(self, "_database"):
            from hypothesis import settings  # lazy: hypothesis (0.1 s), when a claim test is built or run

            from convspec.errors import DatabaseError
            from convspec.search import database
            spec = self.config.getoption("convspec_database")
            try:
                if spec and under_hypofuzz():
                    settings.register_profile("convspec-hypofuzz", settings(settings.default,
                                                                            database=database.open_database(spec)))
                    settings.load_profile("convspec-hypofuzz")
                    self._database = None
                else:
                    self._database = database.gate_view(spec)
            except DatabaseError as e:
                raise pytest.UsageError(str(e)) from None
        return self._database

    def explain(self) -> bool:
        return bool(self.config.getoption("hypothesis_explain", False))

    def hypothesis_item(self, item):
        """The :class:`ClaimTest` that replaces plain claim test ``item`` (a claim expected to hold, not
        skipped), or ``item`` itself."""
        claim, be = claim_and_backend(item)
        if claim is None:
            return item
        from convspec.claims import HOLDS  # lazy: the engine (numpy, hypothesis, the claims), for a claim test
        from convspec.search.engine import build_test
        from convspec.truth.check import Recorder
        if claim.expected != HOLDS or item.get_closest_marker("skip") is not None:
            return item
        fn = build_test(claim, be, "all", self.settings(), self.seed(), recorder=Recorder(), explain=self.explain(),
                        database=self.database())
        new = ClaimTest.from_parent(item.parent, name=item.name, callspec=item.callspec, callobj=fn,
                                    originalname=item.originalname)
        return new

    def profile_name(self) -> str:
        from hypothesis import settings  # lazy: hypothesis (0.1 s), for the header and the report

        name = self.config.getoption("convspec_profile")
        if not name and self.config.getoption("hypothesis_profile", None):
            return settings.get_current_profile_name()
        return name or options.DEFAULT_PROFILE

    def seed(self):
        s = self.config.getoption("hypothesis_seed", None)
        return None if s is None else int(s)

    def backends_for(self, gate_module: bool) -> list:
        return self.builtins + ([self.impl] if gate_module and self.impl is not None else [])

    # hooks
    def pytest_unconfigure(self, config):
        close = getattr(self.impl, "close", None)
        if callable(close):
            close()

    def pytest_report_header(self, config):
        if not (self.active or config.getini("convspec_header")):
            return None
        vers = [f"convspec {__version__}"]
        for mod in ("numpy", "scipy", "hypothesis", "torch", "numba"):
            m = sys.modules.get(mod)
            if m is not None:
                vers.append(f"{mod} {getattr(m, '__version__', '?')}")
        lines = ["convspec versions: " + ", ".join(vers)]
        if self.impl is not None:
            where = "a worker process" if getattr(self.impl, "worker", None) is not None else "this process"
            lines.append(f"convspec implementation: {self.impl.origin} (provides {', '.join(sorted(self.impl.provides))}; "
                         f"runs in {where})")
            lines.append(f"convspec capabilities: {self.impl.caps.summary()}")
            profile = getattr(self.impl, "profile", None)
            if profile is not None:
                lines += [f"convspec profile: {line}" for line in profile.lines()]
            lines += self.coverage_lines()
        lines.append("convspec backends: " + (", ".join(b.name for b in self.builtins) or "none"))
        if any(b.caps.gpu for b in self.builtins) or config.getini("convspec_header"):
            lines.append(f"convspec CUDA mode: {cuda_env.describe()}")
        base = self.settings()
        lines.append(f"convspec profile: {self.profile_name()} (max_examples={base.max_examples}, "
                     f"derandomize={base.derandomize})")
        return lines

    def coverage_lines(self) -> list[str]:
        """The covering arrays of the implementation's ops: 3-way combinations covered / possible, rows."""
        out = [f"{op} {d['covered']}/{d['possible']} "
               f"({100.0 * d['covered'] / d['possible'] if d['possible'] else 100.0:.0f}%, {d['rows']} rows)"
               for op, d in self.coverage_dict().items()]
        return ["convspec coverage (3-way): " + ", ".join(out)] if out else []

    def coverage_dict(self) -> dict:
        """op -> covered, possible, rows: the covering array of each contract op the implementation provides
        (level rows counted, not realised: the header needs no data)."""
        from convspec.drawing import coverage  # lazy: the covering arrays (numpy, coverwise), for an implementation
        caps, out = self.impl.caps, {}
        # the contract ops with a dtype of their kind's domain declared (no array for an op that runs nothing)
        ops = sorted(op for op in self.impl.provides if op in CONTRACT and caps.dtypes_for(op_kind(op)))
        coverage.prepare(ops, caps)
        for op in ops:
            covered, possible = coverage.figure(op, caps)
            out[op] = {"covered": covered, "possible": possible, "rows": len(coverage.level_rows(op, caps))}
        return out

    def pytest_generate_tests(self, metafunc):
        if metafunc.function is not gate.test_claim:
            return
        from convspec.claims import all_claims, applicable  # lazy: the claims (numpy, hypothesis), for the gate test
        in_gate = isinstance(metafunc.definition.parent, GateModule)
        params = []
        for c in all_claims(self.config.getoption("claims")):
            for be in self.backends_for(in_gate):
                ok, why = applicable(c, be)
                marks = [pytest.mark.convspec] + ([] if ok else [pytest.mark.skip(reason=why)])
                if getattr(be.caps, "gpu", False):
                    marks.append(pytest.mark.cuda)
                params.append(pytest.param(c, be, id=f"{c.id}-{be.name}", marks=marks))
        metafunc.parametrize(("claim", "backend"), params)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session, config, items):
        if self.active:
            mod = GateModule.from_parent(session, path=Path(gate.__file__), name=GATE_NODEID, nodeid=GATE_NODEID)
            mod.obj = gate
            collected = list(session.genitems(mod))
            copies = [i for i in items if getattr(i, "function", None) is gate.test_claim]
            if copies:                   # e.g. tests/integration/test_claims.py given as a path: the gate runs them already
                config.hook.pytest_deselected(items=copies)
            items[:] = collected + [i for i in items if getattr(i, "function", None) is not gate.test_claim]
        items[:] = [self.hypothesis_item(i) for i in items]
        self._known_failures(items)

    def _known_failures(self, items):
        for opt, kind in (("skips_file", "skip"), ("xfails_file", "xfail")):
            path = self.config.getoption(opt)
            if not path:
                continue
            if not os.path.exists(path):
                raise pytest.UsageError(f"--{opt.replace('_', '-')} {path}: no such file")
            ids = read_ids(path)
            used = set()
            for item in items:
                c, be = claim_and_backend(item)
                claim_id, backend = (c.id, be.name) if c is not None else (None, None)
                for entry, reason in ids.items():
                    if entry_matches(entry, item.name, item.nodeid, claim_id, backend):
                        used.add(entry)
                        if kind == "skip":
                            item.add_marker(pytest.mark.skip(reason=reason))
                            self.skipped_by_file.add(item.nodeid)
                        else:
                            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
                        break
            for entry in ids:
                if entry not in used:
                    warnings.warn(ConvspecWarning(f"convspec: {path}: entry {entry!r} matches no collected test"),
                                  stacklevel=1)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        """Skipped claim tests carry a ``convspec`` property too (not applicable, or listed as a skip)."""
        report = yield
        c, be = claim_and_backend(item)
        if report.skipped and report.when == "setup" and c is not None and not hasattr(report, "wasxfail"):
            reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            reason = reason.removeprefix("Skipped: ")
            found = "not-run" if item.nodeid in self.skipped_by_file else "not-applicable"
            report.user_properties.append(("convspec", json.dumps(
                {"claim": c.id, "backend": be.name, "found": found, "reason": reason})))
        return report

    def pytest_runtest_logreport(self, report):
        """Gather one row per claim test (on the controller under xdist) for --convspec-json."""
        props = dict(report.user_properties)
        if "convspec" not in props or not (report.when == "call" or report.skipped):
            return
        try:
            row = json.loads(props["convspec"])
        except (TypeError, ValueError):
            return
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        name = report.nodeid.rpartition("::")[2]
        self.rows.append(dict(row, test=name, nodeid=report.nodeid, outcome=outcome))

    def pytest_warning_recorded(self, warning_message, when, nodeid, location):
        text = str(warning_message.message)
        if text.startswith("convspec: ") and text not in self.unused:
            self.unused.append(text)

    def declined(self) -> dict:
        """op -> (descriptor, message): the smallest problem the implementation declined, over every row."""
        out = {}
        for row in self.rows:
            for op, (desc, msg) in (row.get("declined") or {}).items():
                key = (len(desc), desc)
                if op not in out or key < (len(out[op][0]), out[op][0]):
                    out[op] = (desc, msg)
        return out

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        declined = self.declined()
        if declined:
            terminalreporter.write_sep("=", "convspec: regions not covered (the implementation declined them)")
            for op, (desc, msg) in sorted(declined.items()):
                terminalreporter.write_line(f"{op}: smallest declined problem {desc}: {msg}")
        if self.unused:
            terminalreporter.write_sep("=", "convspec: known-failure entries that match nothing")
            for u in self.unused:
                terminalreporter.write_line(u.removeprefix("convspec: "))

    def pytest_sessionfinish(self, session, exitstatus):
        path = self.config.getoption("convspec_json")
        if not path or hasattr(self.config, "workerinput"):
            return
        from convspec.reporting.results import RESULTS_SCHEMA  # lazy: numpy, for a run that writes the JSON report
        doc = {"schema": RESULTS_SCHEMA, "convspec": __version__, "exitstatus": int(exitstatus),
               "impl": None if self.impl is None else self.impl.origin, "profile": self.profile_name(),
               "results": self.rows}
        if self.impl is not None:
            profile = getattr(self.impl, "profile", None)
            doc["capabilities"] = dict(profile.to_dict() if profile is not None else {},
                                       declined={op: {"problem": d, "message": m}
                                                 for op, (d, m) in sorted(self.declined().items())})
            doc["coverage"] = self.coverage_dict()
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, allow_nan=False)
