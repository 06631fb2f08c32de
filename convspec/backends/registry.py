"""The backends a run can select by name: the built-in ones and the zoo's.

**Adding a built-in backend** (a module in this package, listed in :data:`BUILTIN_MODULES`)::

    from convspec.backends.base import Backend, Capabilities
    from convspec.backends.registry import builtin

    @builtin("mylib")
    def _mylib():                       # called once, when a run first selects the backend
        import mylib
        return Backend("mylib", {"conv2d": mylib.conv2d}, Capabilities(dtypes=("f32",), gpu=True),
                       library="mylib", version=mylib.__version__)

The modules of :data:`BUILTIN_MODULES` are imported by name on the first lookup (an optional one whose
library is missing is recorded in :data:`MISSING`); the zoo's backends (:mod:`convspec.backends.zoo`) join
when a run asks for them.  This module stands above :mod:`convspec.backends.base` and the zoo: the
backend model knows nothing of either.
"""

from __future__ import annotations

import importlib

from convspec.backends import zoo
from convspec.backends.base import Backend
from convspec.errors import ImplError

_FACTORIES = {}


def builtin(name: str):
    """Decorator registering a zero-argument factory that returns a :class:`Backend`."""
    def deco(fn):
        _FACTORIES[name] = fn
        return fn
    return deco


_CACHE: dict = {}


#: the modules that register built-in backends; the optional ones need an extra (torch, cuda)
BUILTIN_MODULES = ("numpy_backend", "scipy_backend", "torch_backend", "tf32_backend", "numba_cuda_backend",
                   "torch_cuda_backend")
MISSING: dict = {}        # module -> why it could not be imported (e.g. torch not installed)


def _load_builtin_modules():
    for mod in BUILTIN_MODULES:
        if mod in MISSING:
            continue
        try:
            importlib.import_module(f"{__package__}.{mod}")
        except ImportError as e:
            if mod in ("numpy_backend", "scipy_backend"):
                raise
            MISSING[mod] = f"{type(e).__name__}: {e}"


def builtin_names() -> list[str]:
    """The built-in backends a plain run selects (the zoo's are listed by :func:`zoo_names`)."""
    _load_builtin_modules()
    return list(_FACTORIES)


def zoo_names() -> list[str]:
    """The zoo backends (one per shipping library, :mod:`convspec.backends.zoo`): selected by name or 'zoo'."""
    for mod in zoo.MODULES:
        _ZOO.setdefault(zoo.backend_name(mod), zoo.factory(mod))
    return list(_ZOO)


_ZOO: dict = {}


def get(name: str) -> Backend:
    """A built-in or zoo backend by name (cached).  A zoo name loads no built-in module (torch among them): an
    audit column process of ``--jobs`` starts with its one library."""
    if name not in _CACHE:
        if name.startswith("zoo-") and name in zoo_names():
            factory = _ZOO[name]
        else:
            _load_builtin_modules()
            factory = _FACTORIES.get(name) or _ZOO.get(name)
        if factory is None:
            raise KeyError(f"unknown backend {name!r}; built-in: {', '.join(_FACTORIES)}; zoo: {', '.join(zoo_names())}")
        _CACHE[name] = factory()
    return _CACHE[name]


def select(spec: str | None) -> list[Backend]:
    """Backends for a ``--backends`` value: 'all' (default: the built-in backends), 'none', 'zoo' (every zoo
    backend), or comma-separated names/prefixes of either."""
    return [get(n) for n in select_names(spec)]


def select_names(spec: str | None) -> list[str]:
    """The names :func:`select` would load, without loading them (``convspec audit --jobs`` loads each
    backend in the process that runs its column)."""
    if spec == "none":
        return []
    names = builtin_names()
    if spec in (None, "", "all"):
        chosen = names
    else:
        chosen = []
        zoos = zoo_names()
        for part in spec.split(","):
            part = part.strip()
            if part == "zoo":
                hits = zoos
            elif part == "all":
                hits = names
            else:
                hits = ([n for n in names + zoos if n == part] or [n for n in names if n.startswith(part)]
                        or [n for n in zoos if n.startswith(part)])
            if not hits and part != "zoo":
                raise ImplError(f"--backends: no backend matches {part!r}; built-in: {', '.join(names)}; "
                                f"zoo: {', '.join(zoos) or 'none'}")
            chosen += [h for h in hits if h not in chosen]
    return chosen
