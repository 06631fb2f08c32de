"""One test per (claim, built-in backend): ``tests/integration/test_claims.py::test_claim[<claim id>-<backend>]``.

The test itself is the gate test that ships in the package (convspec/gate.py); the plugin parametrizes
it.  With an implementation (``--impl``) the plugin collects the same test under ``convspec::`` with
the implementation added, and this copy steps aside."""

from convspec.gate import test_claim  # noqa: F401
