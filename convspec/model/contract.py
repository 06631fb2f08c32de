"""The contract every backend and every outside implementation provides (any subset of it).

Ops (r = 1, 2, 3 spatial dimensions; L = (W,), (H, W) or (D, H, W); channels first, torch's weight layouts)::

    conv1d / conv2d / conv3d (x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1)
        The CNN layer, i.e. cross-correlation.  x: (N, C_in, *L); w: (C_out, C_in/groups, *k); b: (C_out,) or None.
        y[n, o, i] = b[o] + sum over c < C_in/G and kernel taps u of x[n, g*C_in/G + c, i*s + u*d - p_before] * w[o, c, u]
        (multi-indices, per axis; g = o // (C_out/G); zero fill outside x).  stride, dilation: an int or r ints;
        padding: an int or r ints (symmetric), r (before, after) pairs (padding_pairs), 'valid' or 'same'
        (padding_strings); padding_mode (padding_modes).  Returns (N, C_out, *L_out),
        L_out = floor((L + p_before + p_after - d (k - 1) - 1) / s) + 1 per axis, in the dtype of x.
    conv_transpose1d / conv_transpose2d / conv_transpose3d (x, w, b=None, *, stride=1, padding=0, output_padding=0,
                                                              groups=1, dilation=1)
        The transposed conv (torch semantics), the adjoint of conv{r}d.  x: (N, C_in, *L); w: (C_in, C_out/groups, *k);
        b: (C_out,) or None.  Every element scatters through the kernel:
        y[n, g*C_out/G + o, i*s + u*d - p] += x[n, g*C_in/G + c, i] * w[g*C_in/G + c, o, u].  padding: an int or r ints;
        output_padding: an int or r ints, each smaller than the stride or the dilation on its axis.  Returns
        (N, C_out, *L_out), L_out = (L - 1) s - 2 p + d (k - 1) + output_padding + 1, in the dtype of x.
    conv1d_input / conv2d_input / conv3d_input (input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1)
        The gradient of <conv{r}d(x, w), grad_out> with respect to x (torch.nn.grad.conv{r}d_input): x has shape
        input_shape (N, C_in, *L), w is the conv's weight (C_out, C_in/groups, *k), grad_out has the conv's output
        shape.  padding: an int or r ints.  Returns input_shape in the dtype of grad_out.
    conv1d_weight / conv2d_weight / conv3d_weight (x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1,
                                                   groups=1)
        The gradient with respect to w (torch.nn.grad.conv{r}d_weight), of shape weight_shape (C_out, C_in/groups, *k):
        gw[o, c, u] = sum over n and output positions i of grad_out[n, o, i] * xp[n, g(o)*C_in/G + c, i*s + u*d]
        (xp: x zero-padded).  The bias gradient is grad_out summed over the batch and spatial axes.  Returns
        weight_shape in the dtype of grad_out.
    convolve2d / correlate2d (a, k, mode="full")
        2-D signal convolution / correlation, zero fill, modes full/same/valid, with scipy.signal's shapes exactly
        ('same' centring for even kernels: the full result from (P-1)//2 for convolve, P//2 for correlate; 'valid'
        also when the kernel is the larger); correlation is convolution with rot180(conj(k)) in every mode (where
        scipy 1.17's correlate2d departs: complex 'valid' with the kernel the larger, an audited finding).  Returns
        the result_type of (a, k).

Capabilities an implementation declares (CAPABILITIES = {...}; the suite never draws outside them)::

    padding_strings  conv{r}d accepts padding='valid' (none) and 'same' (stride 1 only: d (k - 1) per axis,
                     d (k - 1) // 2 before and the rest after: the extra element of an even kernel at the end)
    padding_modes    the conv{r}d padding_mode values accepted besides 'zeros' (the default): 'reflect',
                     'replicate', 'circular' = np.pad's reflect, edge, wrap; reflect needs pad < size, circular
                     pad <= size
    padding_pairs    conv{r}d accepts explicit (before, after) pairs per axis, asymmetric allowed
    layout           "NCHW" (default: channels first) or "NHWC" (channels last: every activation -- x, grad_out,
                     the result, input_shape -- is passed and expected with the channel axis last, for every rank)
    weight_layout    "OIHW" (default: torch's (a, b, *k)) or "HWIO" ((*k, b, a): (*k, C_in/G, C_out) for the convs and
                     their gradients, (*k, C_out/G, C_in) for the transposed convs)
    dtypes           the data dtypes tested: a list out of f64, f32, f16, bf16 (ml_dtypes.bfloat16 arrays), i8, i16,
                     i32, i64, c128, or a dict per op kind ({"family": [...], "signal": [...]}; kinds conv,
                     transpose, input, weight, signal).  Each kind is tested on the declared dtypes inside its
                     domain: the conv family on real floating point (f64, f32, f16, bf16), the signal ops also on
                     integer and complex data
    accumulate       the accumulator format of half-precision data, per dtype or per op kind and dtype
                     ({"f16": "f32"} is the default; {"transpose:f16": "f16"} declares float16 sums for the
                     transposed convs): the error model's bound follows it
    kernel_parity    None (default: every kernel) or "odd": the signal ops take odd kernel extents only (astropy)
    output_padding   "stride-or-dilation" (default: a transposed conv takes output_padding below max(stride, dilation)
                     on each axis, torch's rule) or "stride" (below the stride only, the rule of ONNX Runtime and
                     PaddlePaddle): a narrower domain, declared, never probed (the contract allows the wider one)
    zero_taps        "multiply" (default) or "skip".  The contract's reading is IEEE's on the direct sum: every tap
                     is a term, so a zero weight times NaN or +-Inf is NaN and the output is NaN.  A sparse filter
                     (scikit-image's correlate_sparse, scipy.ndimage, a kernel compiled to its non-zero taps)
                     multiplies only the non-zero weights; both readings are reasonable, the first is the one
                     the definition's sum gives, and "skip" declares the second: the special-value claims then
                     leave the terms of exactly-zero weights out (a NaN reached only by zero taps is not
                     required at the output, and not allowed there either)
    accuracy         "direct" (every output a plain sum: the elementwise bound) or "fast" (FFT/Winograd: normwise)
    stride, dilation, groups, padding, bias, max_size, max_channels, max_batch, max_kernel, mode, timeout,
    deterministic, gpu, examples: see convspec.backends.base.Capabilities

What a module does not declare is probed (:mod:`convspec.backends.probe`): the gate calls it on a tiny problem for
each dtype of each op kind, groups, stride, dilation, padding, bias, padding pairs, strings and modes.  What
it accepts it is held to; what it rejects by raising is off, and the claims needing it skip with the reason
("probed: raised TypeError: ...").  Layouts, the accumulator, the accuracy class and the reading of zero taps
cannot be asked by a call and keep the contract's reading (NCHW, OIHW, fp32 sums, direct, zero taps multiplied).
``NotImplementedError`` on a problem inside
the declaration declines that problem: not a failure; the smallest declined problem is reported as a region
not covered.

numpy arrays in, numpy arrays out, in every argument form and memory layout of :mod:`convspec.model.forms`
(stride/padding/dilation as ints, numpy integers, tuples or lists; arrays C- or Fortran-ordered,
strided, transposed, with negative strides, read-only, or offset in a larger buffer); the result
must not depend on the form beyond the error model.

:func:`guarded_call` enforces the contract around every call: an implementation that raises on
valid input, hangs, returns a non-array, the wrong shape or dtype, NaN/Inf from finite input, a view
of an input, writes into an input, hands out memory it already returned, changes a result after
returning it, or (declaring ``deterministic``) returns different bits for the same input gets a
precise failure naming the problem descriptor (and the call form).

**Time limits in process.**  The limit is a ``SIGALRM`` timer: a Python signal handler runs between
bytecodes only, so native code (a C loop reached through ctypes, an extension module, a BLAS call)
*cannot be interrupted in process*: the limit fires late, when the native code returns, or never.
Run such implementations in a worker process (:mod:`convspec.isolation.supervisor`), whose limit kills the worker.
Any outer ``ITIMER_REAL`` timer (pytest-timeout's signal method, a user's ``signal.alarm``) keeps
running: it is delivered to its own handler on time, also during a guarded call, and re-armed with
its remaining time afterwards.  A callable marked ``enforces_timeout = True`` (the worker proxies)
gets no alarm at all.
"""

from __future__ import annotations

import contextvars
import hashlib
import signal
import threading
import time

import numpy as np

from convspec.errors import ContractViolation, DeadlineAlarm, Declined, Hang, Nondeterministic
from convspec.model import forms
from convspec.model.ops import (  # noqa: F401
    CONTRACT,
    CONV_OPS,
    FAMILY,
    INPUT_GRAD_OPS,
    LABELS,
    RANKS,
    SHAPE_ARGS,
    SIGNAL_OPS,
    TRANSPOSE_OPS,
    WEIGHT_GRAD_OPS,
    family_op,
    op_kind,
    op_rank,
)
from convspec.model.problem import signal_out_shape

DEFAULT_TIMEOUT = 60.0


def _check_rank(op, case):
    r = op_rank(op)
    if case.problem.rank != r:
        raise ValueError(f"{op} called on the {case.problem.rank}-D problem {case.problem}")


def expected_result(op: str, case):
    """(shape, dtype) the contract requires for ``op`` on ``case``: conv and transposed conv (N, O, out...)
    and the input gradient (the input shape) in the dtype of x (grad_out); the weight gradient the weight
    shape in the dtype of grad_out; a signal op scipy's shape in result_type(a, k)."""
    kind = op_kind(op)
    if kind == "signal":
        a, k = np.asarray(case.a), np.asarray(case.k)
        return signal_out_shape(a.shape, k.shape, case.problem.mode), np.result_type(a, k)
    _check_rank(op, case)
    p = case.problem
    return (p.w_shape if kind == "weight" else p.y_shape), np.asarray(case.x).dtype


def _args(op: str, case):
    """The call of ``op`` on a case.  A conv case has x, w, b; a family case (TransposeProblem) has x = the
    transposed conv's input, which is grad_out of the conv it transposes, w, b, and xf = that conv's input
    (for the weight gradient)."""
    kind = op_kind(op)
    if kind == "signal":
        return (case.a, case.k), {"mode": case.problem.mode}
    _check_rank(op, case)
    p = case.problem
    own = getattr(case, "kwargs", None)          # a row's call: padding strings, padding_mode (see Case.kwargs)
    if kind in ("conv", "transpose"):
        return (case.x, case.w, case.b), dict(own) if own else p.kwargs()
    if kind == "input":
        return (tuple(p.y_shape), case.w, case.x), dict(own) if own else p.grad_kwargs()
    return (case.xf, tuple(p.w_shape), case.x), dict(own) if own else p.grad_kwargs()


def describe(case) -> str:
    """The problem descriptor, with the call form when it is not the plain one."""
    form = getattr(case, "form", None)
    own = getattr(case, "kwargs", None) or {}
    words = ", ".join(f"{k}={v!r}" for k, v in own.items() if isinstance(v, str))   # what the descriptor cannot say
    return (str(case.problem) + ("" if form is None or form == forms.PLAIN else f" [form {form}]")
            + (f" [called with {words}]" if words else ""))


# -- time limits -------------------------------------------------------------------------------------

class _Deadline:
    """SIGALRM after ``timeout`` seconds, sharing ITIMER_REAL with any outer timer.

    The outer timer (its handler, remaining time and interval) is saved on entry.  The itimer is armed
    for whichever deadline comes first; when the outer one falls due inside the call its own handler
    runs (in the interrupted frame, as it would have without us); on exit the outer handler is put
    back and its timer re-armed with the time it has left.
    """

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.armed = False
        self.outer = None            # monotonic deadline of the outer timer, or None
        self.interval = 0.0
        self.ours = float("inf")

    def __enter__(self):
        self.old = signal.signal(signal.SIGALRM, self._on_alarm)
        left, self.interval = signal.getitimer(signal.ITIMER_REAL)
        now = time.monotonic()
        self.outer = now + left if left > 0 else None
        self.ours = now + self.timeout
        self.armed = True
        self._arm()
        return self

    def _arm(self):
        nxt = self.ours if self.outer is None else min(self.ours, self.outer)
        signal.setitimer(signal.ITIMER_REAL, max(nxt - time.monotonic(), 1e-6))

    def _on_alarm(self, signum, frame):
        now = time.monotonic()
        if not self.armed or (self.outer is not None and now >= self.outer - 1e-3):
            if self.armed:
                self.outer = now + self.interval if self.interval > 0 else None
            self._deliver(signum, frame)
        if self.armed and now >= self.ours - 1e-3:
            raise DeadlineAlarm()
        if self.armed:
            self._arm()

    def _deliver(self, signum, frame):
        """Hand the outer timer's signal to its own handler."""
        h = self.old
        if callable(h):
            try:
                h(signum, frame)
            except BaseException as e:
                try:
                    e._convspec_outer_alarm = True
                except AttributeError:   # pragma: no cover - exceptions without a __dict__
                    pass
                raise
        elif h in (signal.SIG_DFL, None):           # the default action: terminate, as the outer timer meant
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGALRM)

    def __exit__(self, *exc):
        self.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old if self.old is not None else signal.SIG_DFL)
        if self.outer is not None:
            signal.setitimer(signal.ITIMER_REAL, max(self.outer - time.monotonic(), 1e-6), self.interval)
        return False


def _call_with_timeout(fn, args, kwargs, timeout: float):
    if (timeout and not getattr(fn, "enforces_timeout", False)
            and threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")):
        with _Deadline(timeout):
            return fn(*args, **kwargs)
    return fn(*args, **kwargs)


# -- results that must stay valid ---------------------------------------------------------------------

SNAPSHOT_BYTES = 1 << 20      # results up to this size are kept as copies (shown in reports), larger as digests


class _Snapshot:
    """The bits of a result when it was returned: a copy (small) or a digest (large)."""

    def __init__(self, a: np.ndarray):
        self.shape, self.dtype = a.shape, a.dtype
        if a.nbytes <= SNAPSHOT_BYTES:
            self.copy, self.digest = np.array(a, copy=True), None
        else:
            self.copy, self.digest = None, self._digest(a)

    @staticmethod
    def _digest(a):
        return hashlib.blake2b(np.ascontiguousarray(a).reshape(-1).view(np.uint8), digest_size=16).digest()

    def same(self, a: np.ndarray) -> bool:
        if a.shape != self.shape or a.dtype != self.dtype:
            return False
        if self.copy is not None:
            return same_bits(self.copy, a)
        return self._digest(a) == self.digest


def same_bits(a, b) -> bool:
    """Bitwise equality of two arrays (NaN payloads and signed zeros included)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.ascontiguousarray(a).tobytes() == \
        np.ascontiguousarray(b).tobytes()


def first_difference(a, b) -> str:
    """Where two same-shaped arrays first differ bitwise, for messages."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"{a.dtype}{a.shape} vs {b.dtype}{b.shape}"
    if a.size == 0:
        return "no element differs"
    ab = np.ascontiguousarray(a).view(np.uint8).reshape(a.shape + (-1,)) if a.ndim else a.reshape(1)
    bb = np.ascontiguousarray(b).view(np.uint8).reshape(b.shape + (-1,)) if b.ndim else b.reshape(1)
    diff = np.any(ab != bb, axis=-1) if a.ndim else ab != bb
    idx = np.argwhere(diff)
    if not len(idx):
        return "no element differs"
    i = tuple(int(t) for t in idx[0][:a.ndim])
    return (f"{int(diff.sum())} of {a.size} elements differ, first at {list(i)}: "
            f"{a[i].item()!r} vs {b[i].item()!r}")


class ResultLog:
    """Every result returned during one run of a property (one example).

    :func:`guarded_call` records each result when it returns it and checks, after every call, that
    no earlier result shares memory with the new one or has changed since it was returned;
    :meth:`verify` repeats the second check at the end of the example.  ``rerun`` names the backends
    whose calls are made twice and compared bit for bit (declared ``deterministic``).
    """

    def __init__(self, rerun=()):
        self.rerun = frozenset(rerun)
        self.entries = []            # (label, result array, _Snapshot)

    def record(self, label: str, out: np.ndarray):
        self.entries.append((label, out, _Snapshot(out)))

    def check(self, out: np.ndarray | None, now: str):
        """Raise ContractViolation if an earlier result changed or shares memory with ``out``."""
        for k, (label, arr, snap) in enumerate(self.entries, 1):
            if out is not None and np.shares_memory(arr, out):
                raise ContractViolation(
                    f"{now} returned memory that it already returned as the result of call #{k} ({label}): the "
                    "implementation reuses its output buffer, so that earlier result is overwritten; every "
                    "call must return a new array")
            if not snap.same(arr):
                what = first_difference(snap.copy, arr) if snap.copy is not None else "its digest changed"
                raise ContractViolation(
                    f"the result of call #{k} ({label}) changed after it was returned ({what}; noticed {now}): "
                    "a result must stay valid once returned (reused or still-written output buffer)")

    def verify(self, now: str = "at the end of the example"):
        self.check(None, now)

    def results(self) -> list:
        """(label, the result as returned) per call, in call order."""
        return [(label, snap.copy if snap.copy is not None else arr) for label, arr, snap in self.entries]


_LOG: contextvars.ContextVar[ResultLog | None] = contextvars.ContextVar("convspec_result_log", default=None)


class logging_results:
    """``with logging_results(log):`` makes :func:`guarded_call` record into ``log``."""

    def __init__(self, log: ResultLog):
        self.log = log

    def __enter__(self):
        self.token = _LOG.set(self.log)
        return self.log

    def __exit__(self, *exc):
        _LOG.reset(self.token)
        return False


# -- the guard --------------------------------------------------------------------------------------

def guarded_call(name: str, op: str, fn, case, *, timeout: float = DEFAULT_TIMEOUT, args=None, kwargs=None,
                 expect=None):
    """Call ``fn`` (the implementation's ``op``) on ``case`` and enforce the contract.

    ``args``/``kwargs`` override the call built from the case (used by claims that call an op on
    derived arrays); ``expect`` overrides the required (shape, dtype).  When the case carries a call
    form (``case.form``, see :mod:`convspec.model.forms`) the implementation gets fresh arrays and arguments in
    that form; the caller's arrays are never passed.
    """
    __tracebackhide__ = True
    if args is None:
        args, kwargs = _args(op, case)
    kwargs = dict(kwargs or {})
    form = getattr(case, "form", None)
    shape, dtype = expect if expect is not None else expected_result(op, case)
    desc = describe(case)
    log = _LOG.get()
    label = f"{name}.{op} on {desc}"
    out, elapsed = _checked_call(name, op, fn, case, args, kwargs, form, shape, dtype, desc, timeout)
    if log is not None:
        n = len(log.entries) + 1
        log.check(out, f"by call #{n} ({name}.{op})")
        log.record(label, out)
        if name in log.rerun:
            again, _ = _checked_call(name, op, fn, case, args, kwargs, form, shape, dtype, desc, timeout)
            log.check(again, f"by call #{n + 1} ({name}.{op}, the same input again)")
            log.record(label + " (again)", again)
            if not same_bits(out, again):
                raise Nondeterministic(
                    f"nondeterministic: {name}.{op} declares deterministic results (capability 'deterministic') "
                    f"but two calls on the same input differ: {first_difference(out, again)} (on {desc})",
                    case, {"first result": out, "second result": again})
    return out, elapsed


def _checked_call(name, op, fn, case, args, kwargs, form, shape, dtype, desc, timeout):
    __tracebackhide__ = True
    call_args, call_kwargs = forms.apply(form, op, args, kwargs)
    inputs = [a for a in call_args if isinstance(a, np.ndarray)]
    before = [a.copy() for a in inputs]
    t0 = time.perf_counter()
    try:
        out = _call_with_timeout(fn, call_args, call_kwargs, timeout)
    except DeadlineAlarm:
        raise Hang(f"{name}.{op} hung: no result after {timeout:g}s on {desc}", case) from None
    except ContractViolation as e:
        if getattr(fn, "enforces_timeout", False):   # a worker proxy reporting a crash/hang/violation
            msg = str(e)
            raise ContractViolation((msg if msg.startswith(f"{name}.{op}") else f"{name}.{op}: {msg}")
                                    + f" (on {desc})", fault=e.fault, exception=e.exception) from e
        raise ContractViolation(f"{name}.{op} raised ContractViolation: {e} (on valid input {desc})", fault="raised",
                                exception="ContractViolation") from e
    except Declined as e:   # a worker proxy relaying the implementation's NotImplementedError
        raise (e.on(desc, case) if hasattr(e, "on") else e) from None
    except NotImplementedError as e:   # the implementation declines this problem: not a failure
        raise Declined(f"{name}.{op} declined {desc}: NotImplementedError: {e}", case) from None
    except Exception as e:  # the implementation raised on valid input
        if getattr(e, "_convspec_outer_alarm", False):   # an outer timer's handler, not the implementation
            raise
        if getattr(e, "suite_error", False):             # convspec's own (a transport error), never the impl's
            raise
        raise ContractViolation(f"{name}.{op} raised {type(e).__name__}: {e} (on valid input {desc})", fault="raised",
                                exception=type(e).__name__) from e
    elapsed = time.perf_counter() - t0
    labels = _labels(op, len(inputs))
    for a, b, label in zip(inputs, before, labels):
        if not np.array_equal(a, b, equal_nan=True):
            raise ContractViolation(f"{name}.{op} wrote into its input {label} (on {desc})", fault="wrote")
    if not isinstance(out, np.ndarray):
        raise ContractViolation(f"{name}.{op} returned {type(out).__module__}.{type(out).__qualname__}, "
                                f"not a numpy.ndarray (on {desc})")
    for a, label in zip(inputs, labels):
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
    return LABELS.get(op, ("a", "k"))[:n]
