"""The checkout's pytest configuration: the same plugin an install registers (``convspec.plugin``,
see convspec/plugin.py), the short profile names (``--hypothesis-profile dev|ci|nightly``) and the
default profile for the self-tests.  An installed entry point of the same name makes
``pytest_plugins`` a no-op, so the plugin is never registered twice."""

from __future__ import annotations

from convspec.search import profiles

profiles.register(short_names=True)

pytest_plugins = ["convspec.plugin", "pytester"]


def pytest_configure(config):
    config.addinivalue_line("markers", "selftest: convspec's own checks (wrong implementations must be rejected)")
    config.addinivalue_line("markers", "newcomer: builds the wheel and gates examples from a fresh venv (slow)")
    from hypothesis import settings

    from convspec.options import DEFAULT_PROFILE
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile(config.getoption("convspec_profile") or DEFAULT_PROFILE)
