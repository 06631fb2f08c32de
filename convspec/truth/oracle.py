"""Exact answers and allowed errors for a case, as seen by one backend.

``conv_expect(be, case)`` returns the exact conv2d result (float64, exact for the int regime) and the
per-element allowed error of ``be`` (its accumulation model from :mod:`convspec.truth.tolerance`);
``signal_expect`` does the same for convolve2d/correlate2d.  ``check_*`` compare an observed
result against them through :func:`convspec.truth.check.close`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from convspec.errors import Mismatch
from convspec.model.case import Case
from convspec.model.ops import op_kind
from convspec.model.problem import Problem, dtype_name, signal_out_shape
from convspec.truth import reference as ref
from convspec.truth.check import close
from convspec.truth.special import CODE_NAMES, FINITE, NAN, codes, dirty_planes, expected_codes, explain, finite_part
from convspec.truth.tolerance import (
    Accumulation,
    accumulation_for,
    direct_bound,
    exactness,
    fast_bound,
    round_to,
)


def _cache(case) -> dict:
    c = case.__dict__.get("_cache")
    if c is None:
        c = case.__dict__["_cache"] = {}
    return c


def conv_exact(case):
    """Exact conv{1,2,3}d of the case's data (float64; exact while partial sums < 2**53)."""
    c = _cache(case)
    if "y" not in c:
        p = case.problem
        mode = (getattr(case, "kwargs", None) or {}).get("padding_mode", "zeros")
        if mode != "zeros":      # padding_mode: the padded input (np.pad's mode), then an unpadded conv
            x, kw = ref.pad_input(case.x, p.pads, mode), dict(p.kwargs(), padding=0)
        else:
            x, kw = case.x, p.kwargs()
        c["y"] = ref.direct(x, case.w, case.b, **kw)
        c["s"] = ref.abs_sum(x, case.w, case.b, **kw)
    return c["y"], c["s"]


def conv_is_exact(acc, case) -> bool:
    """Whether every correct implementation of class ``acc`` is exact on this case's data."""
    _, s = conv_exact(case)
    return exactness([case.x, case.w, case.b], float(s.max()) if s.size else 0.0, acc)


def conv_allowed(acc, case):
    """Per-element allowed error for accumulation model ``acc`` on a conv case, against the exact y."""
    y, s = conv_exact(case)
    p = case.problem
    if acc.kind == "fast":
        return fast_bound(case.x, case.w, p, acc, s, y)
    return direct_bound(p.k_terms, s, y, acc, conv_is_exact(acc, case))


def conv_expect_acc(acc, case):
    """(expected, allowed) for class ``acc``: the exact y and the per-element bound.  In the exact
    regime the allowed error is the final rounding's own |round_out(y) - y| (0 for float32/float64
    outputs): every correct result equals round_out(y), bit for bit (ties aside)."""
    y, _ = conv_exact(case)
    return y, conv_allowed(acc, case)


def conv_expect(be, case):
    return conv_expect_acc(be.accumulation(case.problem.dtype, case.problem.op), case)


def sharp(acc, y, allowed):
    """In the exact regime (allowed = the final rounding's own error, everywhere), compare against the
    correctly rounded value with allowed 0 instead: bit for bit, ties included, and a correct result
    reports ratio 0 rather than 1."""
    y = np.asarray(y)
    if acc.kind == "direct" and acc.u_out and y.dtype.kind == "f":
        r = round_to(y, acc.out)
        if np.array_equal(np.abs(r - y), np.asarray(allowed)):
            return r, np.zeros(y.shape)
    return y, allowed


def _special_view(case):
    """The case as the 2-D, zero-padded problem :func:`check_special` judges: a padding_mode's padding applied to
    x (np.pad's mode) and the padding set to 0; a 1-D problem as a 2-D one of height 1."""
    p, arrays = case.problem, dict(case.arrays)
    mode = (getattr(case, "kwargs", None) or {}).get("padding_mode", "zeros")
    if mode != "zeros":
        arrays["x"] = ref.pad_input(arrays["x"], p.pads, mode)
        p = dataclasses.replace(p, spatial=tuple(arrays["x"].shape[2:]), pads=((0, 0),) * p.rank)
    if p.rank == 1:
        p = p.with_rank(2)
        arrays["x"], arrays["w"] = arrays["x"][:, :, None], arrays["w"][:, :, None]
    return Case(p, arrays)


def check_conv(be, case, y, what="conv2d"):
    """Require ``y`` (the backend's conv2d of ``case``) to match the definition within the bound.  Data holding
    NaN or Inf (a covering-array row's 'special' regime) are judged by the exact IEEE reference
    (:func:`check_special`)."""
    __tracebackhide__ = True
    if case.problem.rank <= 2 and any(v is not None and np.asarray(v).dtype.kind not in "iub"   # bf16 is kind 'V'
                                      and not np.all(np.isfinite(np.asarray(v, np.float64)))
                                      for v in (case.x, case.w, case.b)):
        return check_special(be, _special_view(case), np.asarray(y).reshape(_special_view(case).problem.y_shape),
                             what)
    exp, allowed = sharp(be.accumulation(case.problem.dtype, case.problem.op), *conv_expect(be, case))
    return close(y, exp, allowed, f"{be.name}.{what} vs the definition (direct sum)",
                 sides={"x": case.x, "w": case.w, **({"b": case.b} if case.b is not None else {}),
                        "observed": y, "expected": exp})


def check_special(be, case, y, what: str | None = None):
    """Require ``y`` (the backend's conv2d of ``case``) to follow the special-value rule
    (:mod:`convspec.truth.special`)
    for its accuracy class, and its finite elements to be within the bound."""
    __tracebackhide__ = True
    what = what or f"{be.name}.conv2d with NaN/Inf inputs"
    skip = be.caps.zero_taps == "skip"
    with_pad, without = expected_codes(case, True, skip), expected_codes(case, False, skip)
    got = codes(y)
    fast = be.caps.accuracy == "fast"
    fin = finite_part(case)
    y_fin, _ = conv_exact(fin)
    allowed = conv_allowed(be.accumulation(case.problem.dtype), fin)
    sides = {"x": case.x, "w": case.w, **({"b": case.b} if case.b is not None else {}), "observed": y}
    if fast:
        dirty = dirty_planes(case)[:, :, None, None]
        ok = ((got == without) | (got == with_pad)
              | ((without != FINITE) & (got == NAN))
              | ((without == FINITE) & (got != FINITE) & dirty))
    else:
        ok = (got == without) | (got == with_pad)
    if not ok.all():
        idx = tuple(int(t) for t in np.argwhere(~ok)[0])
        exp = CODE_NAMES[int(without[idx])] + ("" if with_pad[idx] == without[idx] else " or nan (padding)")
        raise Mismatch(f"{what}: element {list(idx)} is {y[idx]!r}, expected {exp}: {explain(case, idx)}; "
                       f"{int((~ok).sum())} of {ok.size} elements break the special-value rule"
                       + (" (accuracy 'fast': NaN may spread only within a plane that reads a special value)"
                          if fast else ""), sides=sides)
    value = (got == FINITE) & ((without == FINITE) | (with_pad == FINITE))
    obs = np.where(value, np.asarray(y, dtype=np.float64), y_fin)
    return close(obs, y_fin, allowed, f"{what}: finite elements vs the definition", sides=sides)


def conv_of(x, w, b=None, problem: Problem | None = None, **kw):
    """A throwaway case-like object for derived conv inputs (used by structural claims)."""
    p = problem or ref.problem_of(x, w, b, **kw)
    return Case(p, {"x": x, "w": w, **({"b": b} if b is not None else {})})


# -- signal operations ---------------------------------------------------------------------------

def signal_exact(a, k, mode, op):
    """Exact convolve/correlate (integers wrap like the dtype; floats in float64) and sum |a||k|."""
    a, k = np.asarray(a), np.asarray(k)
    fn = ref.convolve if op == "convolve2d" else ref.correlate
    if np.result_type(a, k).kind in "iu":
        return fn(a, k, mode), None
    a64 = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    k64 = k.astype(np.complex128 if k.dtype.kind == "c" else np.float64)
    return fn(a64, k64, mode), fn(np.abs(a64), np.abs(k64), mode).real


def signal_allowed(acc, a, k, mode, op):
    a, k = np.asarray(a), np.asarray(k)
    y, s = signal_exact(a, k, mode, op)
    if s is None:
        return y, np.zeros(y.shape)
    kterms = int(min(a.size, k.size))
    if acc.kind == "fast":
        n_fft = int(np.prod([m + q - 1 for m, q in zip(a.shape, k.shape)]))
        norm = float(np.sqrt((np.abs(a.astype(np.complex128)) ** 2).sum()) * np.abs(k).sum())
        allowed = (21 * np.log2(max(n_fft, 2)) + 2) * acc.u_acc * (1 + acc.u_in) ** 2 * norm
        return y, allowed + direct_bound(kterms, s, y, acc, False)
    return y, direct_bound(kterms, s, y, acc, exactness([a, k], float(s.max()) if s.size else 0.0, acc))


def signal_dtype_name(a, k):
    return dtype_name(np.result_type(np.asarray(a), np.asarray(k)))


def signal_expect(be, a, k, mode, op):
    dt = signal_dtype_name(a, k)
    return signal_allowed(be.accumulation(dt) if hasattr(be, "accumulation") else accumulation_for(dt), a, k,
                          mode, op)


def signal_call(be, op, case, a=None, k=None, mode=None):
    """Call the backend's ``op`` (convolve2d/correlate2d) under the contract guard on derived arrays."""
    a = case.a if a is None else a
    k = case.k if k is None else k
    mode = case.problem.mode if mode is None else mode
    expect = (signal_out_shape(np.shape(a), np.shape(k), mode), np.result_type(a, k))
    return be.call(op, case, args=(a, k), kwargs={"mode": mode}, expect=expect)


def check_signal(be, op, case, y, a=None, k=None, mode=None, what=None):
    __tracebackhide__ = True
    a = case.a if a is None else a
    k = case.k if k is None else k
    mode = case.problem.mode if mode is None else mode
    exp, allowed = signal_expect(be, a, k, mode, op)
    if np.asarray(exp).dtype.kind == "f":
        exp, allowed = sharp(be.accumulation(signal_dtype_name(a, k)), exp, allowed)
    return close(y, exp, allowed, what or f"{be.name}.{op}(a, k, {mode!r}) vs the definition",
                 sides={"a": a, "k": k, "observed": y, "expected": exp})


# -- the conv family: transposed convs and the gradients of conv{1,2,3}d (issue 10) -------------------------

def _absf(a):
    return None if a is None else np.abs(np.asarray(a, dtype=np.float64))


def family_exact(op: str, case):
    """(exact result, S = the same op on |data|, K = terms per element, factor arrays) for a family op
    (conv_transpose{r}d, conv{r}d_input, conv{r}d_weight) on a :class:`convspec.model.problem.TransposeProblem`
    case, from the float64 definitions of :mod:`convspec.truth.reference` (exact while partial sums stay below
    2**53)."""
    c = _cache(case)
    kind = op_kind(op)
    key = ("family", kind)
    if key not in c:
        p = case.problem
        if kind == "transpose":
            y = ref.conv_transpose(case.x, case.w, case.b, **p.kwargs())
            s = ref.conv_transpose(_absf(case.x), _absf(case.w), _absf(case.b), **p.kwargs())
            c[key] = (y, s, p.k_terms, [case.x, case.w, case.b])
        elif kind == "input":
            y = ref.conv_input(p.y_shape, case.w, case.x, **p.grad_kwargs())
            s = ref.conv_input(p.y_shape, _absf(case.w), _absf(case.x), **p.grad_kwargs())
            c[key] = (y, s, p.k_terms - (1 if p.bias else 0), [case.x, case.w])
        elif kind == "weight":
            y = ref.conv_weight(case.xf, p.w_shape, case.x, **p.grad_kwargs())
            s = ref.conv_weight(_absf(case.xf), p.w_shape, _absf(case.x), **p.grad_kwargs())
            c[key] = (y, s, p.weight_terms, [case.xf, case.x])
        else:
            raise ValueError(f"family_exact: {op!r} is not a transposed conv or a gradient op")
    return c[key]


def family_expect_acc(acc, op: str, case):
    """(expected, allowed) of a family op for accumulation model ``acc``: the direct-class bound
    gamma_K-style (:func:`convspec.truth.tolerance.direct_bound`) with this op's K and S, exact (allowed = the final
    rounding's own error) when the data land in the exact regime (:func:`convspec.truth.tolerance.exactness`).
    Every element is a plain sum of at most K products, so the conv2d error model applies unchanged;
    a fast-class backend gets the same direct bound (no FFT/Winograd model exists for these ops yet)."""
    y, s, k, factors = family_exact(op, case)
    if acc.kind != "direct":
        acc = Accumulation(acc.name, acc.inputs, acc.acc, acc.out, "direct", acc.data, acc.acc_factor)
    exact = exactness(factors, float(s.max()) if s.size else 0.0, acc)
    return sharp(acc, y, direct_bound(k, s, y, acc, exact))


def check_family(be, op: str, case, y, what=None):
    """Require ``y`` (the backend's ``op`` on ``case``) to match the definition within the error model."""
    __tracebackhide__ = True
    exp, allowed = family_expect_acc(be.accumulation(case.problem.dtype, op), op, case)
    sides = {k: v for k, v in case.arrays.items() if v is not None}
    return close(y, exp, allowed, what or f"{be.name}.{op} vs the definition (direct sum)",
                 sides={**sides, "observed": y, "expected": exp})


def check_signal_modes(be, case, ops=("convolve2d", "correlate2d")):
    """The signal ``ops`` of ``case`` against the definition in every mode that applies ('valid' only when
    one array contains the other in every dimension)."""
    __tracebackhide__ = True
    sa, sk = case.problem.a, case.problem.k
    contained = all(m >= q for m, q in zip(sa, sk)) or all(q >= m for m, q in zip(sa, sk))
    for mode in ("full", "same", "valid") if contained else ("full", "same"):
        for op in ops:
            check_signal(be, op, case, signal_call(be, op, case, mode=mode), mode=mode)
