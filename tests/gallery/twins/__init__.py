"""The wrong twins that are not plain ``--impl`` modules: each module is one twin, named in its claim's declaration
(``twin=``), and defines ``backend()``, a factory of the wrong :class:`convspec.backends.base.Backend` (mostly a
built-in backend with one library function replaced).  Modules whose name starts with ``_`` hold shared helpers."""
