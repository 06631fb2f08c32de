"""The built-in claims, shipped as ``convspec.specs``: the seed thread, the contract, each library.

Every module below this package registers its claims on import (:func:`convspec.claims.load_builtin`)."""
