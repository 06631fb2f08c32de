"""Every convspec option, declared once for pytest (the plugin) and the command line (``convspec``).

Each :class:`Option` has one flag, one environment variable and one default; :func:`add_to_pytest`
and :func:`add_to_argparse` build the two parsers from the same table, so the two cannot drift.
A flag given on the command line beats its environment variable, which beats the default.

The option table is also what ``convspec gate TARGET [ARGS]`` accepts: it runs pytest with
``--impl TARGET ARGS``, so the gate has exactly the plugin's options, ids, reports and exit codes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

PROFILES = ("dev", "ci", "nightly")
DEFAULT_PROFILE = "ci"          # the budget the gate and the README audit are calibrated to, everywhere
ISOLATION = ("process", "none")


@dataclass(frozen=True)
class Option:
    """One option: ``flag`` (as typed), ``env`` (environment variable), ``commands`` (the CLI
    subcommands that take it; pytest takes every option whose ``pytest`` is true)."""

    flag: str
    help: str
    env: str | None = None
    type: type = str
    default: object = None
    choices: tuple | None = None
    append: bool = False
    metavar: str | None = None
    pytest: bool = True
    commands: tuple = ()
    cli_flag: str | None = None     # the CLI's flag where pytest's must differ (pytest owns the name)

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def env_default(self):
        """The default, or the environment variable's value (converted) when it is set."""
        raw = os.environ.get(self.env) if self.env else None
        if raw is None or raw == "":
            return [] if self.append and self.default is None else self.default
        if self.append:
            return [p for p in raw.split(os.pathsep) if p]
        try:
            value = self.type(raw)
        except ValueError:
            raise SystemExit(f"convspec: error: {self.env}={raw!r} is not a valid {self.type.__name__} "
                             f"(for {self.flag})") from None
        if self.choices and value not in self.choices:
            raise SystemExit(f"convspec: error: {self.env}={raw!r}: choose from {', '.join(self.choices)}")
        return value

    def full_help(self) -> str:
        extra = f" (env {self.env})" if self.env else ""
        return self.help + extra


_IMPL_CMDS = ("audit", "repro", "check-vectors", "fuzz")

OPTIONS: tuple[Option, ...] = (
    Option("--impl", "implementation under test: a dotted module or a .py file defining any of conv2d, convolve2d, "
           "correlate2d", env="CONVSPEC_IMPL", metavar="TARGET", commands=_IMPL_CMDS),
    Option("--impl-cmd", "an external program that serves the contract over the worker protocol "
           "(e.g. \"./conv_server --fast\"); implies process isolation", env="CONVSPEC_IMPL_CMD", metavar="CMD",
           commands=_IMPL_CMDS),
    Option("--isolation", "how --impl runs: 'process' (default: a persistent worker process, so a crash or a hang "
           "is reported as a failure with its shrunk counterexample; the per-call overhead is measured in "
           "benchmarks/isolation.py) or 'none' (in the test process: faster to start, but native code that "
           "crashes ends the run and native loops cannot be interrupted)", env="CONVSPEC_ISOLATION",
           default="process", choices=ISOLATION, commands=_IMPL_CMDS),
    Option("--memory-limit", "address-space limit of the isolated implementation, in MiB (exceeding it is a "
           "failure)", env="CONVSPEC_MEMORY_LIMIT", type=float, metavar="MiB", commands=_IMPL_CMDS),
    Option("--call-timeout", "per-call time limit in seconds for the implementation under test (default: its "
           "CAPABILITIES['timeout'], else 60)", env="CONVSPEC_CALL_TIMEOUT", type=float, metavar="SECONDS",
           commands=_IMPL_CMDS),
    Option("--backends", "built-in backends to run: all (the default without an implementation), none (the default "
           "with --impl/--impl-cmd: the gate judges the implementation alone), zoo (every library of the zoo), or "
           "comma-separated names/prefixes", env="CONVSPEC_BACKENDS", metavar="SPEC", commands=("audit",)),
    Option("--jobs", "run the audit's backends in this many processes at once, one column each (0: one per CPU; "
           "default 1, all in this process); the report is the same as a serial run's", env="CONVSPEC_JOBS",
           type=int, default=1, metavar="N", pytest=False, commands=("audit",)),
    Option("--claims", "comma-separated globs on claim ids (default: all)", env="CONVSPEC_CLAIMS", metavar="GLOBS",
           commands=("audit", "claims", "fuzz")),
    Option("--claims-module", "a module or .py file registering extra claims with @convspec.claims.claim "
           "(repeatable; the variable takes a path list)", env="CONVSPEC_CLAIMS_MODULE", append=True,
           metavar="MODULE", commands=("audit", "repro", "claims", "fuzz")),
    Option("--skips-file", "file of tests to skip: one id per line (test_claim[CLAIM-BACKEND], a claim id, or "
           "backend:NAME), '# reason' allowed", env="CONVSPEC_SKIPS", metavar="FILE"),
    Option("--xfails-file", "file of tests expected to fail (strict: one that passes fails the run); same "
           "format as --skips-file", env="CONVSPEC_XFAILS", metavar="FILE"),
    Option("--convspec-json", "write per-test results as JSON (schema convspec-results) to this path",
           env="CONVSPEC_JSON", metavar="PATH"),
    Option("--convspec-profile", "example budget: dev (12 examples), ci (40, derandomized; the default) or "
           "nightly (600, random, with an example database); --hypothesis-profile NAME also works under pytest",
           env="CONVSPEC_PROFILE", choices=PROFILES, metavar="NAME", commands=("audit",), cli_flag="--profile"),
    Option("--convspec-database", "shared example database: a directory path or redis://host:port/db (needs the "
           "redis package). `convspec fuzz` stores every counterexample it finds there; the gate reads it through a "
           "read-only view and replays what was stored for the same test and implementation before generating",
           env="CONVSPEC_DATABASE", metavar="DIR|URL", commands=("fuzz",), cli_flag="--database"),
    Option("--repro-dir", "where failures too large to inline in the repro command are saved as .npz "
           "(default: $XDG_CACHE_HOME/convspec/cases, i.e. ~/.cache/convspec/cases)",
           env="CONVSPEC_REPRO_DIR", metavar="DIR", commands=("audit", "fuzz")),
)

BY_DEST = {o.dest: o for o in OPTIONS}


def add_to_pytest(parser) -> None:
    """Declare every option in pytest's ``convspec`` group."""
    group = parser.getgroup("convspec", "convspec: gate an implementation against the convolution claims")
    for o in OPTIONS:
        if not o.pytest:
            continue
        group.addoption(o.flag, **_argparse_kwargs(o))


def _argparse_kwargs(o) -> dict:
    """The argparse keywords of option ``o`` (pytest's addoption takes the same)."""
    kw = dict(dest=o.dest, default=o.env_default(), help=o.full_help())
    if o.metavar:
        kw["metavar"] = o.metavar
    if o.append:
        kw["action"] = "append"
    else:
        kw["type"] = o.type
    if o.choices:
        kw["choices"] = list(o.choices)
    return kw


def add_to_argparse(ap, command: str) -> None:
    """Declare the options ``command`` takes on an argparse (sub)parser."""
    for o in OPTIONS:
        if command not in o.commands:
            continue
        ap.add_argument(o.cli_flag or o.flag, **_argparse_kwargs(o))


def value(source, dest: str):
    """An option's value from a pytest ``Config`` or an argparse ``Namespace``."""
    if hasattr(source, "getoption"):
        return source.getoption(dest)
    return getattr(source, dest, BY_DEST[dest].env_default() if dest in BY_DEST else None)
