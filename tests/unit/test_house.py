"""The house keeps its shape (issue 19): one package name (no ``specs`` import anywhere, no import hook),
and no import cycle among the modules of ``convspec`` and the claims (module-level imports, as Python
runs them on import; a function-level import is lazy and cannot close a cycle at import time)."""

from __future__ import annotations

import ast
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TREES = ("convspec", "specs", "tests", "benchmarks", "examples", ".ci")


def _files(exts=(".py",)):
    for tree in TREES:
        for d, dirs, fs in os.walk(os.path.join(ROOT, tree)):
            dirs[:] = [x for x in dirs if x != "__pycache__"]
            for f in fs:
                if f.endswith(exts) or tree == ".ci":
                    yield os.path.join(d, f)
    yield os.path.join(ROOT, "conftest.py")


def test_one_name():
    old = "specs"
    pattern = re.compile(rf"^\s*(from {old}\b|import {old}\b)", re.M)
    bad = [os.path.relpath(p, ROOT) for p in _files() if pattern.search(open(p, encoding="utf-8").read())]
    assert not bad, f"imports of the old name 'specs': {bad}"
    assert "meta_path" not in open(os.path.join(ROOT, "convspec", "__init__.py")).read(), "an import hook is back"


def _module(path: str) -> str:
    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    rel = rel[: -len(".__init__")] if rel.endswith(".__init__") else rel
    return "convspec." + rel if rel.split(".")[0] == "specs" else rel


def _graph() -> dict:
    mods = {}
    for tree in ("convspec", "specs"):
        for d, dirs, fs in os.walk(os.path.join(ROOT, tree)):
            dirs[:] = [x for x in dirs if x != "__pycache__"]
            for f in fs:
                if f.endswith(".py"):
                    mods[_module(os.path.join(d, f))] = os.path.join(d, f)
    graph = {}
    for mod, path in mods.items():
        deps = set()
        for node in ast.parse(open(path, encoding="utf-8").read()).body:      # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            deps |= {n for n in names if n in mods and n != mod}
        graph[mod] = deps
    return graph


def test_no_import_cycle():
    graph, state, stack = _graph(), {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"
    for m in sorted(graph):
        if m not in state:
            visit(m)
