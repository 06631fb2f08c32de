"""The findings page: every departure recorded by the zoo backends, as ``docs/findings.md``.

Each zoo module (:mod:`convspec.backends.zoo`) records what its library does instead of the contract in a literal
``DEPARTURES = {claim id: {statement, source, upstream, observed, expected, counterexample, repro}}``.  This module
reads those dicts **without importing the modules** (``ast.literal_eval`` of the module-level assignment: the
libraries need not be installed, and nothing of theirs runs), and writes one page:

* for each departure whose source is "found by convspec": the library, its version, the claim it refutes, the
  statement, observed against expected, the shrunk counterexample, the closest upstream issue, and the
  library-only repro script's text inline;
* a table of the sourced departures (documented behaviour or an upstream report: their source is a URL).

The library of a module is its entry's ``"library"`` key, else a module-level literal ``LIBRARY``, else the first
third-party package the module imports (``import jax`` -> jax); its version is the entry's ``"version"``, else
the installed distribution's (``importlib.metadata``), else "not installed here".  Problems (a module whose
DEPARTURES is not a literal, an entry without a required key, a repro script that is not there) are listed at the
top of the page and returned, never skipped silently.

    python -m convspec.reporting.findings docs/findings.md
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata as md
import sys
from dataclasses import dataclass, field
from pathlib import Path

FOUND = "found by convspec"
REQUIRED = ("statement", "source", "upstream", "observed", "expected", "counterexample", "repro")
ZOO_DIR = Path(__file__).resolve().parent.parent / "backends" / "zoo"
ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Departure:
    module: str
    claim: str
    library: str
    version: str
    fields: dict
    repro_text: str | None = None

    @property
    def found(self) -> bool:
        return self.fields.get("source") == FOUND


@dataclass
class Findings:
    departures: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def _module_literal(tree: ast.Module, name: str):
    """The value of the module-level ``name = <literal>``; KeyError when absent, ValueError when not literal."""
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.literal_eval(node.value)
    raise KeyError(name)


def _first_library(tree: ast.Module) -> str | None:
    """The first top-level third-party package the module imports (not the standard library, numpy, or relative)."""
    skip = set(sys.stdlib_module_names) | {"numpy", "__future__"}
    for node in tree.body:
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
        for n in names:
            top = n.split(".")[0]
            if top not in skip:
                return top
    return None


def _version(package: str | None) -> str:
    if not package:
        return "unknown"
    dists = md.packages_distributions().get(package, [package])
    for d in dists:
        try:
            return md.version(d)
        except md.PackageNotFoundError:
            continue
    return "not installed here"


def collect(zoo_dir: Path | str = ZOO_DIR, root: Path | str = ROOT) -> Findings:
    """Every departure of every module in ``zoo_dir`` (repro paths relative to ``root``), with the problems found."""
    zoo_dir, root = Path(zoo_dir), Path(root)
    out = Findings()
    # the zoo's modules, and the built-in adapters that record departures of their library (scipy_backend)
    for path in sorted(zoo_dir.glob("*.py")) + sorted(zoo_dir.parent.glob("*_backend.py")):
        if path.name.startswith("_"):
            continue
        mod = path.stem
        try:
            tree = ast.parse(path.read_text(), str(path))
        except SyntaxError as e:
            out.problems.append(f"{mod}: cannot parse ({e})")
            continue
        try:
            deps = _module_literal(tree, "DEPARTURES")
        except KeyError:
            continue
        except ValueError as e:
            out.problems.append(f"{mod}: DEPARTURES is not a literal dict ({e})")
            continue
        if not isinstance(deps, dict):
            out.problems.append(f"{mod}: DEPARTURES is a {type(deps).__name__}, not a dict")
            continue
        try:
            lib = _module_literal(tree, "LIBRARY")
        except (KeyError, ValueError):
            lib = _first_library(tree)
        for cid, entry in deps.items():
            if isinstance(entry, str) and isinstance(deps.get(entry), dict):
                continue           # another claim the same departure refutes: listed once, under its record
            if not isinstance(entry, dict):
                out.problems.append(f"{mod}: DEPARTURES[{cid!r}] is not a dict")
                continue
            missing = [k for k in REQUIRED if not entry.get(k)]
            if missing:
                out.problems.append(f"{mod}: DEPARTURES[{cid!r}] lacks {', '.join(missing)}")
            library = entry.get("library") or lib or mod
            d = Departure(mod, cid, library, entry.get("version") or _version(library), entry)
            if entry.get("repro"):
                rp = root / entry["repro"]
                if rp.is_file():
                    d.repro_text = rp.read_text()
                else:
                    out.problems.append(f"{mod}: DEPARTURES[{cid!r}] repro {entry['repro']} is not there")
            out.departures.append(d)
    return out


def _cell(v) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def render(f: Findings) -> str:
    """The page's markdown."""
    found = [d for d in f.departures if d.found]
    sourced = [d for d in f.departures if not d.found]
    lines = ["# Findings: where shipping libraries depart from the contract", "",
             "Generated by `python -m convspec.reporting.findings docs/findings.md` from the `DEPARTURES` of the zoo "
             "backends (`convspec/backends/zoo/`); do not edit by hand.", "",
             f"{len(found)} departures found by convspec, {len(sourced)} documented or reported upstream.", ""]
    if f.problems:
        lines += ["## Problems in the records", ""] + [f"- {p}" for p in f.problems] + [""]
    lines += ["## Found by convspec", ""]
    if not found:
        lines += ["None.", ""]
    for d in found:
        e = d.fields
        lines += [f"### {d.library} {d.version}: `{d.claim}`", "",
                  f"{e.get('statement', '')}", "",
                  f"- backend module: `{d.module}`",
                  f"- observed: `{e.get('observed', '')}`; expected: `{e.get('expected', '')}`",
                  f"- counterexample: `{e.get('counterexample', '')}`",
                  f"- closest upstream issue: {e.get('upstream', '')}", ""]
        if d.repro_text is not None:
            lines += [f"Minimal repro (`{e['repro']}`, the library alone):", "", "```python",
                      d.repro_text.rstrip("\n"), "```", ""]
    lines += ["## Documented or reported upstream", ""]
    if not sourced:
        lines += ["None.", ""]
    else:
        lines += ["| library | version | claim | what it does instead | source | upstream |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {_cell(d.library)} | {_cell(d.version)} | `{d.claim}` | {_cell(d.fields.get('statement', ''))} "
                  f"| {_cell(d.fields.get('source', ''))} | {_cell(d.fields.get('upstream', ''))} |" for d in sourced]
        lines.append("")
    return "\n".join(lines)


def write(path, zoo_dir: Path | str = ZOO_DIR, root: Path | str = ROOT) -> Findings:
    """Write the findings page to ``path``; returns what was collected (its ``problems`` too)."""
    f = collect(zoo_dir, root)
    Path(path).write_text(render(f))
    return f


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m convspec.reporting.findings", description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", default=str(ROOT / "docs" / "findings.md"), help="the page to write")
    a = ap.parse_args(argv)
    f = write(a.path)
    print(f"{a.path}: {sum(d.found for d in f.departures)} found, "
          f"{sum(not d.found for d in f.departures)} sourced, {len(f.problems)} problems")
    for p in f.problems:
        print(f"problem: {p}", file=sys.stderr)
    return 1 if f.problems else 0


if __name__ == "__main__":
    sys.exit(main())
