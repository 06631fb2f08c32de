"""A correlate2d that follows the definition in 'valid' mode with the kernel the larger (scipy.signal.correlate),
standing in for a fixed scipy: the refuted claim must find no counterexample on it."""

from __future__ import annotations

from scipy import signal

from convspec.backends.base import Backend, Capabilities


def backend():
    return Backend("correlate2d-fixed", {"correlate2d": lambda a, k, mode="full": signal.correlate(a, k, mode=mode),
                                         "scipy.signal.correlate": signal.correlate},
                   Capabilities(dtypes=("c128",)), origin="selftest")
