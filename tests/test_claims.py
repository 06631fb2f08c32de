"""One test per (claim, built-in backend): ``tests/test_claims.py::test_claim[<claim id>-<backend>]``.

The test itself is the gate test that ships in the package (specs/gate.py); the plugin parametrizes
it.  With an implementation (``--impl``) the plugin collects the same test under ``convspec::`` with
the implementation added, and this copy steps aside."""

from specs.gate import test_claim  # noqa: F401
