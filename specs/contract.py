"""The contract every backend and every outside implementation provides (any subset of it).

``conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1)``
    The CNN layer, i.e. cross-correlation, NCHW.  x: (N, C_in, H, W); w: (C_out, C_in/groups, kH, kW);
    b: (C_out,) or None.  stride, padding, dilation: an int or a pair; padding is zero fill.
    Returns (N, C_out, H_out, W_out), H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1,
    in the dtype of x.

``convolve2d(a, k, mode="full")`` / ``correlate2d(a, k, mode="full")``
    2-D signal convolution / correlation, zero fill, modes full/same/valid, with scipy.signal's
    semantics exactly ('same' centring for even kernels, 'valid' when the kernel is the larger).
    Returns the result_type of (a, k).

numpy arrays in, numpy arrays out.  :func:`guarded_call` enforces the contract around every call:
an implementation that raises on valid input, hangs, returns a non-array, the wrong shape or dtype,
NaN/Inf from finite input, a view of an input, or writes into an input gets a
:class:`~specs.check.ContractViolation` naming what went wrong.
"""

from __future__ import annotations

import signal
import threading
import time

import numpy as np

from .check import ContractViolation
from .problem import signal_out_shape

CONTRACT = ("conv2d", "convolve2d", "correlate2d")
DEFAULT_TIMEOUT = 60.0


class Hang(BaseException):
    """Raised (as a BaseException, so hypothesis does not shrink by re-running) when a call hangs."""

    def __init__(self, message: str, case=None):
        super().__init__(message)
        self.case = case


def expected_result(op: str, case):
    """(shape, dtype) the contract requires for ``op`` on ``case``."""
    if op == "conv2d":
        return case.problem.y_shape, np.asarray(case.x).dtype
    a, k = np.asarray(case.a), np.asarray(case.k)
    return signal_out_shape(a.shape, k.shape, case.problem.mode), np.result_type(a, k)


def _args(op: str, case):
    p = case.problem
    if op == "conv2d":
        return (case.x, case.w, case.b), p.kwargs()
    return (case.a, case.k), {"mode": p.mode}


class _Alarm(Exception):
    pass


def _call_with_timeout(fn, args, kwargs, timeout: float):
    if timeout and threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def on_alarm(signum, frame):
            raise _Alarm()
        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return fn(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    return fn(*args, **kwargs)


def guarded_call(name: str, op: str, fn, case, *, timeout: float = DEFAULT_TIMEOUT, args=None, kwargs=None,
                 expect=None):
    """Call ``fn`` (the implementation's ``op``) on ``case`` and enforce the contract.

    ``args``/``kwargs`` override the call built from the case (used by claims that call an op on
    derived arrays); ``expect`` overrides the required (shape, dtype).
    """
    __tracebackhide__ = True
    if args is None:
        args, kwargs = _args(op, case)
    kwargs = kwargs or {}
    inputs = [a for a in args if isinstance(a, np.ndarray)]
    before = [a.copy() for a in inputs]
    shape, dtype = expect if expect is not None else expected_result(op, case)
    desc = str(case.problem)
    t0 = time.perf_counter()
    try:
        out = _call_with_timeout(fn, args, kwargs, timeout)
    except _Alarm:
        raise Hang(f"{name}.{op} hung: no result after {timeout:g}s on {desc}", case) from None
    except Exception as e:  # the implementation raised on valid input
        raise ContractViolation(f"{name}.{op} raised {type(e).__name__}: {e} (on valid input {desc})") from e
    elapsed = time.perf_counter() - t0
    for a, b, label in zip(inputs, before, _labels(op, len(inputs))):
        if not np.array_equal(a, b, equal_nan=True):
            raise ContractViolation(f"{name}.{op} wrote into its input {label} (on {desc})")
    if not isinstance(out, np.ndarray):
        raise ContractViolation(f"{name}.{op} returned {type(out).__module__}.{type(out).__qualname__}, "
                                f"not a numpy.ndarray (on {desc})")
    for a, label in zip(inputs, _labels(op, len(inputs))):
        if np.shares_memory(out, a):
            raise ContractViolation(f"{name}.{op} returned a view of its input {label} (on {desc})")
    if tuple(out.shape) != tuple(shape):
        raise ContractViolation(f"{name}.{op} returned shape {tuple(out.shape)}, expected {tuple(shape)} "
                                f"(on {desc})")
    if out.dtype != np.dtype(dtype):
        raise ContractViolation(f"{name}.{op} returned dtype {out.dtype}, expected {np.dtype(dtype)} (on {desc})")
    if out.dtype.kind in "fc" and all(np.all(np.isfinite(a)) for a in inputs if a.dtype.kind in "fc"):
        if not np.all(np.isfinite(out)):
            bad = np.argwhere(~np.isfinite(out))[0].tolist()
            raise ContractViolation(f"{name}.{op} returned {out[tuple(bad)]} at {bad} from finite input "
                                    f"(on {desc})")
    return out, elapsed


def _labels(op, n):
    return ("x", "w", "b")[:n] if op == "conv2d" else ("a", "k")[:n]
