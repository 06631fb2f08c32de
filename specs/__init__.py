"""convspec: executable specifications of convolution claims (see README.md).

**One package, two names, one copy of every module.**  The source folder is ``specs/``; the
distribution installs it as the package ``convspec`` (``package-dir`` in pyproject.toml), and
``convspec`` is the canonical name.  A checkout also imports the folder as ``specs`` (``python -m
specs ...``, ``from specs.claims import claim`` in tests, benchmarks and users' claim modules).  Two
names must not mean two copies -- a second ``claims.REGISTRY`` would silently lose every claim
registered through the other name -- so when this file runs under the name ``specs`` it:

1. imports ``convspec``: the one already imported, else the installed one when it is this very
   folder (an editable install), else this folder itself, through :class:`_SourceFinder` (a checkout
   without ``pip install``; child processes there must also import ``specs`` first);
2. puts :class:`_AliasFinder` first on ``sys.meta_path``: it answers every import of ``specs.X`` with
   the module object ``convspec.X`` (importing it if need be), and runs ``python -m specs.X`` from
   the code of ``convspec.X``;
3. replaces itself in ``sys.modules`` with ``convspec`` (the import system returns whatever a module
   leaves under its name).

So ``specs.X is convspec.X`` for every submodule X, whichever name is imported first
(tests/selftest/test_plugin.py checks it).  Code inside the package uses relative imports.
"""

__version__ = "0.1.0"

if __name__ == "specs":          # imported from a checkout under the folder's own name
    import importlib
    import importlib.abc
    import importlib.machinery
    import importlib.util
    import os
    import sys

    _HERE = os.path.dirname(os.path.abspath(__file__))

    class _SourceFinder(importlib.abc.MetaPathFinder):
        """Finds the top-level ``convspec`` in this folder (submodules follow its ``__path__``)."""

        def find_spec(self, fullname, path=None, target=None):
            if fullname != "convspec":
                return None
            return importlib.util.spec_from_file_location("convspec", os.path.join(_HERE, "__init__.py"),
                                                          submodule_search_locations=[_HERE])

    class _AliasLoader(importlib.abc.Loader):
        """Loads ``specs.X`` as the already imported (or now imported) module ``convspec.X``."""

        def __init__(self, canonical: str, real_spec):
            self.canonical, self.real_spec = canonical, real_spec

        def create_module(self, spec):
            module = importlib.import_module(self.canonical)
            self._keep = getattr(module, "__spec__", None)
            return module

        def exec_module(self, module):
            module.__spec__ = self._keep    # the import system set the alias spec; keep the canonical one

        # what runpy needs for ``python -m specs.X``: the code of convspec.X
        def get_code(self, fullname):
            return self.real_spec.loader.get_code(self.canonical)

        def is_package(self, fullname):
            return self.real_spec.submodule_search_locations is not None

        def get_source(self, fullname):
            return self.real_spec.loader.get_source(self.canonical)

    class _AliasFinder(importlib.abc.MetaPathFinder):
        """``specs.X`` -> ``convspec.X`` (same module object)."""

        def find_spec(self, fullname, path=None, target=None):
            if not fullname.startswith("specs."):
                return None
            canonical = "convspec" + fullname[len("specs"):]
            real = importlib.util.find_spec(canonical)
            if real is None:
                return None
            if fullname.endswith(".__main__"):
                # runpy executes __main__ as a fresh module; give it the real spec under the alias name
                return importlib.util.spec_from_loader(fullname, _AliasLoader(canonical, real), is_package=False)
            return importlib.util.spec_from_loader(fullname, _AliasLoader(canonical, real),
                                                   is_package=real.submodule_search_locations is not None)

    if "convspec" not in sys.modules:
        _found = importlib.util.find_spec("convspec")
        _origin = os.path.dirname(os.path.abspath(_found.origin)) if _found is not None and _found.origin else None
        if _origin != _HERE:     # not installed, or installed from elsewhere: this checkout's code wins
            sys.meta_path.insert(0, _SourceFinder())
    if not any(type(f).__name__ == "_AliasFinder" for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
    sys.modules["specs"] = importlib.import_module("convspec")
