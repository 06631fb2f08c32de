"""Backends: :mod:`convspec.backends.base` (the Backend class, capabilities, the op table),
then one adapter per library, and the zoo."""
