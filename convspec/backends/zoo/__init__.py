"""The zoo: one backend per shipping library (JAX, ONNX Runtime, OpenCV, ...), as optional extras.

Each module of this package is an ordinary ``--impl`` module: it defines the contract ops it offers at
module level (``conv2d``, ``conv_transpose2d``, ``convolve2d``, ...), ``NAME`` (the backend's name, also
its audit column), ``CAPABILITIES`` (what the library really supports) and ``__version__`` (the
library's version).  It imports its library at the top, so a missing library is an import error.

A zoo backend never runs in this process: :func:`factory` loads the module in a worker process
(:func:`convspec.isolation.loader.load` with process isolation), because these libraries are native code; a crash,
an abort or a hang inside one is a failure with a descriptor, never the end of the run.  The same module
gates from the command line: ``pytest --impl convspec.backends.zoo.<module>``.

Zoo backends join a run only when asked for (``--backends zoo`` or a name): the README's commands
need none of these libraries.
"""

from __future__ import annotations

import ast
import os
import pkgutil

from convspec.backends.base import Backend
from convspec.errors import ImplError
from convspec.isolation.loader import load

#: the zoo modules (file names), discovered once
MODULES: tuple = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


def backend_name(module: str) -> str:
    """The backend name of zoo module ``module``: 'zoo-' and the module name with '_' as '-'."""
    return "zoo-" + module.replace("_", "-")


def factory(module: str):
    """A zero-argument factory loading zoo module ``module`` behind the worker boundary; a library that
    is not installed gives a backend that is unavailable (its claims skip with the import error)."""
    def make():
        name = backend_name(module)
        try:
            be = load(f"{__name__}.{module}", isolation="process")
        except ImplError as e:
            return Backend(name, {}, library=module, origin="zoo", unavailable=f"{name}: {e}")
        be.name, be.origin = name, "zoo"
        be.departures = departures(module)
        return be
    return make


def departures(module: str) -> dict:
    """The ``DEPARTURES`` literal of zoo module ``module``, read from its source (the module itself is never
    imported here: its library is native code and runs in a worker): claim id -> record (statement, source,
    upstream, observed, expected, counterexample, repro).  A malformed literal raises ValueError naming it."""
    path = os.path.join(os.path.dirname(__file__), module + ".py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "DEPARTURES" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError as e:
                raise ValueError(f"{path}: DEPARTURES must be a literal dict: {e}") from None
            if not isinstance(value, dict):
                raise ValueError(f"{path}: DEPARTURES must be a dict, not {type(value).__name__}")
            return resolve(value, path)
    return {}


def resolve(deps: dict, where: str = "DEPARTURES") -> dict:
    """``deps`` with every alias replaced by its record: a departure that one library behaviour causes in several
    claims is written once, and each further claim id maps to the claim id that holds the record (a string).
    An alias of an alias, or of a claim that has no record, raises ValueError naming it."""
    out = {}
    for cid, v in deps.items():
        if isinstance(v, str):
            target = deps.get(v)
            if not isinstance(target, dict):
                raise ValueError(f"{where}: DEPARTURES[{cid!r}] = {v!r} must name a claim id with a record")
            out[cid] = {**target, "same_as": v}
        else:
            out[cid] = v
    return out
