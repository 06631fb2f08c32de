"""Command line: ``convspec {audit,gate,fuzz,repro,claims,vectors,check-vectors}`` (also ``python -m convspec``,
and ``python -m convspec`` in a checkout).  The options come from :mod:`convspec.options`, shared with the
pytest plugin.

``convspec gate TARGET [PYTEST ARGS]`` runs pytest with ``--impl TARGET``: the same tests, ids,
options, known-failure files, reports and exit codes as ``pytest --impl TARGET`` (pytest's: 0 pass,
1 failures, 4 usage error).  The other commands exit 0 on success, 1 when a verdict or check fails,
2 on a usage error (a bad option, an --impl that cannot be loaded or defines none of the contract).
``convspec fuzz`` (:mod:`convspec.fuzz`) exits 1 when it found a failure (stored in the shared database).

Each command imports the engine it runs when it runs (the engine, numpy and hypothesis take about 0.6 s):
``convspec --help``, ``--version`` and ``convspec gate`` (which hands over to pytest) start without it.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from importlib import metadata

from convspec import __version__
from convspec.options import add_to_argparse
from convspec.reporting import paths

USAGE_ERROR = 2
PROG = "convspec"


def _die(msg: str) -> int:
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    return USAGE_ERROR


def _impl(args):
    """The implementation under test from --impl/--impl-cmd (with its isolation settings), or None."""
    from convspec.errors import ImplError  # lazy: see the module doc (hypothesis, the worker machinery)
    from convspec.isolation import loader
    target, cmd = getattr(args, "impl", None), getattr(args, "impl_cmd", None)
    if not target and not cmd:
        return None
    if target and cmd:
        raise ImplError("give --impl or --impl-cmd, not both")
    return loader.load(target or None, cmd=cmd or None, isolation=getattr(args, "isolation", "process"),
                       timeout=getattr(args, "call_timeout", None), memory_limit_mb=getattr(args, "memory_limit", None))


def _load_claim_modules(args):
    from convspec import claims  # lazy: see the module doc (the claims: numpy, hypothesis)
    for m in getattr(args, "claims_module", None) or []:
        claims.load_module(m)


def _close(be):
    close = getattr(be, "close", None)
    if callable(close):
        close()


def cmd_audit(args) -> int:
    from convspec import audit  # lazy: see the module doc (the engine)
    from convspec.backends import registry as backends
    from convspec.errors import ImplError, InvalidClaim
    from convspec.search import pool, profiles
    paths.set_repro_dir(args.repro_dir)
    if args.jobs < 0:
        return _die(f"--jobs must be 0 (one per CPU) or a positive number of processes, not {args.jobs}")
    jobs = args.jobs or pool.default_jobs()
    try:
        _load_claim_modules(args)
        names = backends.select_names(args.backends)
        bes = [] if jobs > 1 else [backends.get(n) for n in names]
        impl = _impl(args)
    except (ImplError, ImportError, InvalidClaim) as e:
        return _die(str(e))
    name = args.convspec_profile or profiles.DEFAULT_PROFILE
    base = profiles.get(name)
    zoo = any(n.startswith("zoo-") for n in names)          # the cross-library table, as audit.run decides it
    t0 = time.perf_counter()
    if jobs > 1:
        def extra():            # the --impl column runs here, beside the column processes
            if impl is None:
                return None
            try:
                return audit.run([impl], claims_pattern=args.claims, base=base, seed=args.seed, impl_arg=args.impl,
                                 progress=not args.quiet, profile=name, behaviours=zoo)
            finally:
                _close(impl)
        result = pool.run(names, jobs=jobs, claims_pattern=args.claims, profile=name, seed=args.seed,
                          claim_modules=args.claims_module or (), repro_dir=args.repro_dir,
                          behaviours=zoo, progress=not args.quiet, extra=extra)
    else:
        if impl is not None:
            bes = bes + [impl]
        try:
            result = audit.run(bes, claims_pattern=args.claims, base=base, seed=args.seed, impl_arg=args.impl,
                               progress=not args.quiet, profile=name)
        finally:
            _close(impl)
    wall = time.perf_counter() - t0
    text = audit.render(result, args.format)
    if args.readme:
        audit.update_readme(args.readme, audit.render(result, "markdown"), " ".join([PROG] + sys.argv[1:]))
        print(f"updated the audit section of {args.readme}", file=sys.stderr)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    s = result.summary()
    print(f"{s['matched']}/{s['total']} verdicts match the expected ones; {s['not_applicable']} not applicable; "
          f"wall {wall:.1f}s", file=sys.stderr)
    return 0 if s["matched"] == s["total"] else 1


def cmd_gate(args) -> int:
    import pytest  # lazy: pytest (0.25 s) for this command only
    if args.target and args.target.startswith("-"):         # convspec gate --impl-cmd "server" ...
        argv = [args.target, *args.pytest_args]
    elif args.target:
        argv = ["--impl", args.target, *args.pytest_args]
    else:
        argv = list(args.pytest_args)
    plugins = []
    try:
        if not any(ep.name == "convspec.plugin" for ep in metadata.entry_points(group="pytest11")):
            plugins = ["-p", "convspec.plugin"]     # an uninstalled checkout: load the plugin by name
    except Exception:  # pragma: no cover - metadata unavailable
        plugins = ["-p", "convspec.plugin"]
    return int(pytest.main(plugins + argv))


def cmd_fuzz(args) -> int:
    from convspec import fuzz  # lazy: see the module doc (the engine)
    from convspec.errors import DatabaseError, ImplError, InvalidClaim
    from convspec.search import database
    if args.engine == "hypofuzz":
        print("convspec fuzz: HypoFuzz is not driven by convspec (its licence allows non-commercial use only); the "
              "gate tests are Hypothesis tests, so run it yourself:\n  pip install hypofuzz\n  hypothesis fuzz -- "
              f"--impl {args.impl or 'TARGET'} --convspec-database DIR", file=sys.stderr)
        return USAGE_ERROR
    if args.engine == "atheris":
        try:
            import atheris  # noqa: F401  (lazy: an optional extra; is it installed?)
        except ImportError:
            return _die("--engine atheris needs the atheris package (pip install 'convspec[atheris]')")
        if args.impl_cmd:
            return _die("--engine atheris instruments Python code in-process: give --impl, not --impl-cmd")
    if not args.impl and not args.impl_cmd:
        return _die("give the implementation to fuzz: --impl TARGET or --impl-cmd CMD (or CONVSPEC_IMPL)")
    if args.processes < 1:
        return _die(f"-n {args.processes}: need at least one process")
    if args.minutes is not None and args.minutes <= 0:
        return _die(f"--minutes {args.minutes}: must be positive")
    db = args.convspec_database or fuzz.default_database()
    try:
        database.open_database(db)
        _load_claim_modules(args)
        be = _impl(args)
    except (ImplError, ImportError, InvalidClaim, DatabaseError) as e:
        return _die(str(e))
    try:
        n = len(fuzz.gate_claims(be, args.claims))
        name = be.name
    finally:
        _close(be)
    if n == 0:
        return _die(f"no gate test applies to {name} (claims {args.claims or 'all'})")
    seed = args.seed if args.seed is not None else int(time.time())
    print(f"convspec fuzz: {n} gate tests of {name}, {args.processes} process(es), engine {args.engine}, "
          f"{'until interrupted' if args.minutes is None else f'{args.minutes:g} min'}, seed {seed}, database "
          f"{database.describe(db)}", file=sys.stderr)
    job = dict(impl=dict(impl=args.impl, impl_cmd=args.impl_cmd, isolation=args.isolation, call_timeout=args.call_timeout,
                         memory_limit=args.memory_limit),
               claims=args.claims, claims_modules=args.claims_module, repro_dir=args.repro_dir, database=db, seed=seed)
    found = fuzz.run(job, args.processes, args.minutes, args.engine)
    fuzz.report(found, db)
    return 1 if found else 0


def cmd_repro(args) -> int:
    from convspec.backends import registry as backends  # lazy: see the module doc (the engine)
    from convspec.claims import REGISTRY, load_builtin
    from convspec.errors import DescriptorError, ImplError, InvalidClaim
    from convspec.model.case import case_from_cli
    from convspec.model.forms import CallForm
    from convspec.reporting.report import fmt_array
    from convspec.search.engine import run_once
    load_builtin()
    try:
        _load_claim_modules(args)
        be = backends.get(args.backend) if args.backend else (_impl(args) or backends.get("numpy"))
    except (ImplError, ImportError, KeyError, InvalidClaim) as e:
        return _die(str(e).strip("'\""))
    try:
        if args.claim not in REGISTRY:
            return _die(f"unknown claim {args.claim!r}; see `{PROG} claims`")
        try:
            case = case_from_cli(args.case, args.seed, args.data)
            if args.form:
                case = replace(case, form=CallForm.parse(args.form))
        except (DescriptorError, ValueError, OSError) as e:
            return _die(str(e))
        c = REGISTRY[args.claim]
        print(f"claim {c.id}: {c.statement}\nexpected: {c.describe_expected()}\nbackend: {be.name}\n"
              f"problem: {case.problem}" + (f"\nform: {case.form}" if case.form is not None else ""))
        for k, v in case.arrays.items():
            if v is not None:
                print(fmt_array(k, v))
        status, msg = run_once(c, be, case)
        print(f"\nresult: {status}\n{msg}")
        return 0 if status == "holds" else 1
    finally:
        _close(be)


def cmd_claims(args) -> int:
    from convspec.claims import all_claims  # lazy: see the module doc (the claims)
    from convspec.errors import InvalidClaim
    try:
        _load_claim_modules(args)
    except (ImportError, InvalidClaim) as e:
        return _die(str(e))
    for c in all_claims(args.claims):
        req = f"; requires {','.join(sorted(c.requires))}" if c.requires else ""
        print(f"{c.id:45s} {c.group:6s} {c.describe_expected():12s} needs {','.join(sorted(c.needs))}{req}\n"
              f"    {c.statement}\n    source: {c.source}")
    return 0


def cmd_vectors(args) -> int:
    from convspec import vectors  # lazy: see the module doc (the references)
    n = vectors.write(args.out, dtypes=args.dtypes.split(","))
    print(f"wrote {n} vectors and {args.out}/manifest.json")
    return 0


def cmd_check_vectors(args) -> int:
    from convspec import vectors  # lazy: see the module doc (the references, the backends)
    from convspec.backends import registry as backends
    from convspec.errors import ImplError
    try:
        be = backends.get(args.backend) if args.backend else (_impl(args) or backends.get("torch"))
    except (ImplError, KeyError) as e:
        return _die(str(e).strip("'\""))
    try:
        failed, total, skipped = vectors.check(args.dir, be, verbose=args.verbose)
    except (OSError, ValueError) as e:
        return _die(str(e))
    finally:
        _close(be)
    print(f"{total - failed - skipped} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=PROG, description="convspec: executable specifications of convolution")
    ap.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)

    a = sub.add_parser("audit", help="run every claim on every backend and print the verdicts")
    add_to_argparse(a, "audit")
    a.add_argument("--seed", type=int, default=0, help="hypothesis seed: same seed, same report (default 0)")
    a.add_argument("--format", default="text", choices=["text", "markdown", "json", "html"],
                   help="text (fits 100 columns), markdown (the full matrix), json (schema convspec-audit), html")
    a.add_argument("--out", help="write the report here instead of stdout")
    a.add_argument("--readme", help="also write the Markdown table into this file between the audit markers")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress lines (they go to stderr)")
    a.set_defaults(fn=cmd_audit)

    g = sub.add_parser("gate", help="gate an implementation: pytest --impl TARGET [PYTEST ARGS]",
                       usage=f"{PROG} gate [TARGET] [PYTEST ARGS ...]",
                       description="Run the gate: the same as `pytest --impl TARGET [PYTEST ARGS]` (every pytest "
                                   "and convspec option works, e.g. --impl-cmd CMD instead of TARGET; see "
                                   "`pytest --help`, group convspec).")
    g.add_argument("target", nargs="?", help="a dotted module or a .py file defining any of conv2d, convolve2d, "
                   "correlate2d (or none, with --impl-cmd CMD or CONVSPEC_IMPL)")
    g.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest (e.g. --backends none -n auto)")
    g.set_defaults(fn=cmd_gate)

    fz = sub.add_parser("fuzz", help="run every gate test of an implementation for a long time, on N processes, "
                        "storing each counterexample in the shared example database (the gate replays them first)")
    add_to_argparse(fz, "fuzz")
    fz.add_argument("-n", dest="processes", type=int, default=1, metavar="N", help="processes (default 1)")
    fz.add_argument("--minutes", type=float, metavar="M", help="stop after M minutes (default: until interrupted)")
    fz.add_argument("--engine", default="default", choices=("default", "atheris", "hypofuzz"),
                    help="default: random seeds in N processes; atheris: coverage-guided through fuzz_one_input "
                         "(pip install atheris); hypofuzz: prints how to run HypoFuzz (non-commercial licence)")
    fz.add_argument("--seed", type=int, help="base seed of the rounds' random seeds (default: the time)")
    fz.set_defaults(fn=cmd_fuzz)

    r = sub.add_parser("repro", help="re-run one claim on one case (the command failures print)")
    r.add_argument("claim")
    r.add_argument("--backend", help="a built-in backend (default numpy) when no --impl/--impl-cmd is given")
    add_to_argparse(r, "repro")
    r.add_argument("--case", required=True, help="problem descriptor, e.g. n2c4h7w9_o6k3x2_s2x1_p1x0_d1x2_g2")
    r.add_argument("--seed", type=int, help="data seed (convspec.model.case.fill)")
    r.add_argument("--data", help="inline JSON arrays or an .npz file")
    r.add_argument("--form", help="call form of the arrays and arguments, e.g. s=int,x=F,ro (convspec/model/forms.py; "
                                  "default plain)")
    r.set_defaults(fn=cmd_repro)

    c = sub.add_parser("claims", help="list the registered claims")
    add_to_argparse(c, "claims")
    c.set_defaults(fn=cmd_claims)

    v = sub.add_parser("vectors", help="write portable golden vectors (.npz + manifest.json)")
    v.add_argument("--out", required=True)
    v.add_argument("--dtypes", default="f32,f64")
    v.set_defaults(fn=cmd_vectors)

    cv = sub.add_parser("check-vectors", help="check an implementation against a vector set")
    cv.add_argument("dir")
    add_to_argparse(cv, "check-vectors")
    cv.add_argument("--backend", help="a built-in backend (default torch when no --impl/--impl-cmd is given)")
    cv.add_argument("-v", "--verbose", action="store_true")
    cv.set_defaults(fn=cmd_check_vectors)
    return ap


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["gate"] and len(argv) > 1 and argv[1] not in ("-h", "--help"):
        rest = argv[1:]                      # everything after TARGET belongs to pytest, options included
        target, pytest_args = (rest[0], rest[1:]) if not rest[0].startswith("-") else (None, rest)
        return cmd_gate(argparse.Namespace(target=target, pytest_args=pytest_args))
    args = parser().parse_args(argv)
    return args.fn(args)
