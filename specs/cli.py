"""Command line: ``python -m specs {audit,repro,vectors,check-vectors,claims}``.

Exit codes: 0 success; 1 a verdict or check failed; 2 usage error (bad option, --impl that cannot be
loaded or defines none of the contract) -- the same meaning as pytest's 0/1/4 for the gate.
"""

from __future__ import annotations

import argparse
import sys
import time

USAGE_ERROR = 2


def _die(msg: str) -> int:
    print(f"convspec: error: {msg}", file=sys.stderr)
    return USAGE_ERROR


def _backends(args):
    from . import backends
    bes = backends.select(getattr(args, "backends", None))
    impl = None
    if getattr(args, "impl", None):
        impl = backends.load_impl(args.impl)
        bes = bes + [impl]
    return bes, impl


def _load_claim_modules(args):
    from . import claims
    for m in getattr(args, "claims_module", None) or []:
        claims.load_module(m)


def cmd_audit(args) -> int:
    from . import audit, profiles
    from .backends import ImplError
    try:
        _load_claim_modules(args)
        bes, impl = _backends(args)
    except (ImplError, ImportError) as e:
        return _die(str(e))
    base = profiles.get(args.profile)
    t0 = time.perf_counter()
    result = audit.run(bes, claims_pattern=args.claims, base=base, seed=args.seed, impl_arg=args.impl,
                       progress=not args.quiet)
    wall = time.perf_counter() - t0
    text = audit.render(result, args.format)
    if args.readme:
        audit.update_readme(args.readme, audit.render(result, "markdown"), " ".join(["python -m specs"] + sys.argv[1:]))
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


def cmd_repro(args) -> int:
    from . import backends
    from .case import case_from_cli
    from .claims import REGISTRY, load_builtin
    from .engine import run_once
    from .problem import DescriptorError
    load_builtin()
    try:
        _load_claim_modules(args)
        if args.impl:
            be = backends.load_impl(args.impl)
        else:
            be = backends.get(args.backend or "numpy")
    except (backends.ImplError, ImportError, KeyError) as e:
        return _die(str(e))
    if args.claim not in REGISTRY:
        return _die(f"unknown claim {args.claim!r}; see `python -m specs claims`")
    try:
        case = case_from_cli(args.case, args.seed, args.data)
    except (DescriptorError, ValueError, OSError) as e:
        return _die(str(e))
    c = REGISTRY[args.claim]
    from .report import fmt_array
    print(f"claim {c.id}: {c.statement}\nexpected: {c.describe_expected()}\nbackend: {be.name}\nproblem: {case.problem}")
    for k, v in case.arrays.items():
        if v is not None:
            print(fmt_array(k, v))
    status, msg = run_once(c, be, case)
    print(f"\nresult: {status}\n{msg}")
    return 0 if status == "holds" else 1


def cmd_claims(args) -> int:
    from .claims import all_claims
    _load_claim_modules(args)
    for c in all_claims(args.claims):
        print(f"{c.id:45s} {c.group:6s} {c.describe_expected():12s} needs {','.join(sorted(c.needs))}\n"
              f"    {c.statement}\n    source: {c.source}")
    return 0


def cmd_vectors(args) -> int:
    from . import vectors
    n = vectors.write(args.out, dtypes=args.dtypes.split(","))
    print(f"wrote {n} vectors and {args.out}/manifest.json")
    return 0


def cmd_check_vectors(args) -> int:
    from . import backends, vectors
    try:
        be = backends.load_impl(args.impl) if args.impl else backends.get(args.backend)
    except (backends.ImplError, KeyError) as e:
        return _die(str(e))
    try:
        failed, total, skipped = vectors.check(args.dir, be, verbose=args.verbose)
    except (OSError, ValueError) as e:
        return _die(str(e))
    print(f"{total - failed - skipped} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m specs", description="convspec: executable convolution specs")
    sub = ap.add_subparsers(dest="cmd", required=True)

    a = sub.add_parser("audit", help="run every claim on every backend and print the verdict table")
    a.add_argument("--claims", help="comma-separated globs on claim ids")
    a.add_argument("--backends", help="all (default), none, or comma-separated backend names/prefixes")
    a.add_argument("--impl", help="also audit this implementation (module or .py file)")
    a.add_argument("--claims-module", action="append", help="module/.py registering extra claims")
    a.add_argument("--profile", default="ci", choices=["dev", "ci", "nightly"], help="example budget (default ci)")
    a.add_argument("--seed", type=int, default=0, help="hypothesis seed: same seed, same report (default 0)")
    a.add_argument("--format", default="text", choices=["text", "markdown", "json", "html"])
    a.add_argument("--out", help="write the report here instead of stdout")
    a.add_argument("--readme", help="also write the Markdown table into this file between the audit markers")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    a.set_defaults(fn=cmd_audit)

    r = sub.add_parser("repro", help="re-run one claim on one case (the command failures print)")
    r.add_argument("claim")
    r.add_argument("--backend")
    r.add_argument("--impl")
    r.add_argument("--claims-module", action="append")
    r.add_argument("--case", required=True, help="problem descriptor, e.g. n2c4h7w9_o6k3x2_s2x1_p1x0_d1x2_g2")
    r.add_argument("--seed", type=int, help="data seed (specs.case.fill)")
    r.add_argument("--data", help="inline JSON arrays or an .npz file")
    r.set_defaults(fn=cmd_repro)

    c = sub.add_parser("claims", help="list the registered claims")
    c.add_argument("--claims")
    c.add_argument("--claims-module", action="append")
    c.set_defaults(fn=cmd_claims)

    v = sub.add_parser("vectors", help="write portable golden vectors (.npz + manifest.json)")
    v.add_argument("--out", required=True)
    v.add_argument("--dtypes", default="f32,f64")
    v.set_defaults(fn=cmd_vectors)

    cv = sub.add_parser("check-vectors", help="check an implementation against a vector set")
    cv.add_argument("dir")
    cv.add_argument("--impl")
    cv.add_argument("--backend", default="torch")
    cv.add_argument("-v", "--verbose", action="store_true")
    cv.set_defaults(fn=cmd_check_vectors)

    args = ap.parse_args(argv)
    return args.fn(args)
