"""The cross-library table: what each library actually does where libraries differ.

The claims give verdicts against the contract; this table answers the questions people ask of every
framework, one row per backend, each cell measured by calling the backend (through
:meth:`convspec.backends.base.Backend.call`, so a zoo library runs in its worker) on a tiny exact problem:

* ``flip`` -- conv{r}d: does the CNN layer correlate (the contract) or convolve; convolve2d/correlate2d:
  with ``a = [[1]]`` and ``k = [[1, 2], [3, 4]]`` a convolution returns k, a correlation rot180(k).
* ``same`` -- where 'same' puts the extra element of an even kernel: for the signal ops, which row/column of
  the full result the 'same' window starts at (scipy: (P-1)//2 for convolve, P//2 for correlate); for conv2d
  ``padding='same'``, the extra zero at the end (torch, the contract) or at the start.
* ``output_padding`` -- conv_transpose2d with output_padding 1: accepted with stride 2 (op < stride) and with
  stride 1 and dilation 2 (op < dilation only: the contract, torch's rule).
* ``NaN`` -- conv2d, f64: a NaN under a zero weight reaches its output (IEEE: 0 * NaN = NaN; the contract);
  a NaN in group 0 stays out of group 1; a NaN in the hole of a dilated kernel stays out (it is never a term).
* ``f16 sum`` / ``bf16 sum`` -- conv1d (or conv2d) of [2048, 1, 1] (bf16: [256, 1, 1]) with [1, 1, 1]: 2050
  (258) if the terms are summed in fp32 and rounded once, 2048 (256) if summed in the half format.
* ``int exact`` -- conv2d in f32 on small integers (|x|, |w| <= 8, 36 terms): bit-exact, or the largest error.
* ``supports`` -- ranks, groups, dilation, padding modes and dtypes: the resolved capabilities (declared or
  probed, :mod:`convspec.backends.probe`).

A cell that raises says ``raises <Type>``; an op the backend lacks is ``-``.  :func:`table` measures,
:func:`render_text` fits 100 columns, :func:`render_markdown` and :func:`render_html` carry every cell.
"""

from __future__ import annotations

import html
import textwrap

import numpy as np

from convspec.errors import Abort, ContractViolation, Declined, fault_of
from convspec.model.case import Case, cast
from convspec.model.problem import Problem, SignalProblem, TransposeProblem
from convspec.truth.reference import direct

COLUMNS = ("flip", "same", "output_padding", "NaN", "f16 sum", "bf16 sum", "int exact", "supports")


def _call(be, op, case, **kw):
    """(result, None) or (None, short reason): "declines", "raises TypeError", "crashed", "hung", "broken: ..."."""
    try:
        return np.asarray(be.call(op, case, **kw)), None
    except (Declined, ContractViolation, Abort) as e:
        fault = fault_of(e)
        if fault == "declined":
            return None, "declines"
        if fault == "raised":
            return None, f"raises {e.exception}"
        if fault in ("crashed", "hung", "nondeterministic"):
            return None, fault
        return None, "broken: " + str(e).split(": ", 1)[-1][:40]


def _signal_case(a, k, mode, dtype="f64"):
    p = SignalProblem(a=a.shape, k=k.shape, mode=mode, dtype=dtype, regime="int")
    return Case(p, {"a": a.astype(np.float64), "k": k.astype(np.float64)})


def _conv_case(x, w, b=None, dtype="f64", **kw):
    r = x.ndim - 2
    p = Problem(n=x.shape[0], c=x.shape[1], o=w.shape[0], spatial=x.shape[2:], kernel=w.shape[2:], g=kw.pop("g", 1),
                bias=b is not None, dtype=dtype, regime="int", dilation=kw.pop("dilation", (1,) * r),
                stride=(1,) * r, pads=((0, 0),) * r)
    return Case(p, {"x": cast(x, dtype), "w": cast(w, dtype), "b": None if b is None else cast(b, dtype)})


def flip(be) -> str:
    out = []
    k = np.array([[1.0, 2.0], [3.0, 4.0]])
    for op, word in (("convolve2d", "convolve2d"), ("correlate2d", "correlate2d")):
        if op not in be.provides:
            continue
        y, why = _call(be, op, _signal_case(np.ones((1, 1)), k, "full"))
        if why:
            out.append(f"{word}: {why}")
        elif np.array_equal(y, k):
            out.append(f"{word}: flips")
        elif np.array_equal(y, k[::-1, ::-1]):
            out.append(f"{word}: no flip")
        else:
            out.append(f"{word}: other")
    if "conv2d" in be.provides:
        x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
        w = np.array([[[[1.0, 0.0], [0.0, 0.0]]]])
        y, why = _call(be, "conv2d", _conv_case(x, w))
        if why:
            out.append(f"conv2d: {why}")
        else:
            v = float(y.ravel()[0])
            out.append("conv2d: correlation" if v == 1.0 else "conv2d: convolution" if v == 4.0 else f"conv2d: {v:g}")
    return "; ".join(out) or "-"


def same(be) -> str:
    out = []
    a = np.zeros((1, 5))
    a[0, 2] = 1.0
    k = np.array([[1.0, 2.0, 3.0, 4.0]])
    for op in ("convolve2d", "correlate2d"):
        if op not in be.provides:
            continue
        y, why = _call(be, op, _signal_case(a, k, "same"))
        if why:
            out.append(f"{op[:4]}: {why}")
            continue
        full, why2 = _call(be, op, _signal_case(a, k, "full"))
        if why2:
            out.append(f"{op[:4]}: full {why2}")
            continue
        starts = [s for s in range(full.shape[1] - 4) if np.array_equal(full[:, s:s + 5], y)]
        scipy_start = (4 - 1) // 2 if op == "convolve2d" else 4 // 2
        word = ("scipy" if scipy_start in starts else f"starts at {starts[0]} (scipy {scipy_start})" if starts
                else "other")
        out.append(f"{op[:4]}: {word}")
    if "conv2d" in be.provides and getattr(be.caps, "padding_strings", False):
        x = np.arange(1.0, 6.0).reshape(1, 1, 1, 5)
        w = np.array([[[[1.0, 10.0]]]])
        case = _conv_case(x, w)
        y, why = _call(be, "conv2d", case, args=(case.x, case.w, None),
                       kwargs=dict(case.problem.kwargs(), padding="same"), expect=((1, 1, 1, 5), np.dtype(np.float64)))
        if why:
            out.append(f"conv2d: {why}")
        else:
            end = np.array([21.0, 32.0, 43.0, 54.0, 5.0])      # the extra zero after the input (torch)
            start = np.array([10.0, 21.0, 32.0, 43.0, 54.0])   # before it
            v = y.ravel()
            out.append("conv2d: extra at end" if np.array_equal(v, end) else
                       "conv2d: extra at start" if np.array_equal(v, start) else "conv2d: other")
    return "; ".join(out) or "-"


def output_padding(be) -> str:
    if "conv_transpose2d" not in be.provides:
        return "-"
    out = []
    for stride, dil, word in ((2, 1, "op<stride"), (1, 2, "op<dilation")):
        p = TransposeProblem(n=1, c=1, o=1, spatial=(2, 2), kernel=(2, 2), stride=(stride, stride),
                             dilation=(dil, dil), pads=((0, 0), (0, 0)), out_pad=(1, 1), dtype="f64", regime="int")
        case = Case.seeded(p, 3)
        _, why = _call(be, "conv_transpose2d", case)
        out.append(f"{word}: " + ("yes" if why is None else "no" if why.startswith("raises") else why))
    return ", ".join(out)


def nan(be) -> str:
    op = "conv2d"
    if op not in be.provides or "f64" not in be.caps.dtypes_for("conv"):
        return "-"
    out = []
    x = np.ones((1, 1, 1, 3))
    x[0, 0, 0, 1] = np.nan
    y, why = _call(be, op, _conv_case(x, np.array([[[[1.0, 0.0, 1.0]]]])))
    out.append("0*NaN " + (why or ("NaN" if np.isnan(y).all() else "dropped")))
    if be.caps.groups:
        x = np.ones((1, 2, 1, 2))
        x[0, 0, 0, 0] = np.nan
        y, why = _call(be, op, _conv_case(x, np.ones((2, 1, 1, 2)), g=2))
        out.append("group leak " + (why or ("yes" if np.isnan(y[0, 1]).any() else "no")))
    if be.caps.max_dilation is None or be.caps.max_dilation >= 2:
        x = np.ones((1, 1, 1, 3))
        x[0, 0, 0, 1] = np.nan
        y, why = _call(be, op, _conv_case(x, np.ones((1, 1, 1, 2)), dilation=(1, 2)))
        out.append("hole " + (why or ("leaks" if np.isnan(y).any() else "clean")))
    return ", ".join(out)


def half_sum(be, dtype: str) -> str:
    big = 2048.0 if dtype == "f16" else 256.0
    for op in ("conv1d", "conv2d"):
        if op in be.provides:
            break
    else:
        return "-"
    if dtype not in be.caps.dtypes_for("conv"):
        return "not declared"
    x = np.array([big, 1.0, 1.0]).reshape((1, 1, 3) if op == "conv1d" else (1, 1, 1, 3))
    w = np.ones((1, 1, 3) if op == "conv1d" else (1, 1, 1, 3))
    y, why = _call(be, op, _conv_case(x, w, dtype=dtype))
    if why:
        return why
    v = float(np.asarray(y, dtype=np.float64).ravel()[0])
    return "fp32" if v == big + 2 else "half" if v == big else f"{v:g}"


def int_exact(be) -> str:
    if "conv2d" not in be.provides or "f32" not in be.caps.dtypes_for("conv"):
        return "-"
    rng = np.random.default_rng(7)
    x = rng.integers(-8, 9, (1, 4, 6, 6)).astype(np.float64)
    w = rng.integers(-8, 9, (2, 4, 3, 3)).astype(np.float64)
    case = _conv_case(x, w, dtype="f32")
    y, why = _call(be, "conv2d", case)
    if why:
        return why
    exact = direct(case.x, case.w, None, **case.problem.kwargs())     # float64: every partial sum is exact
    err = float(np.max(np.abs(np.asarray(y, np.float64) - exact)))
    return "exact" if err == 0 else f"off by {err:.2g}"


def supports(be) -> str:
    c = be.caps
    ranks = sorted({op[4] for op in be.provides if op.startswith("conv") and op[4:5].isdigit()})
    sig = [op for op in ("convolve2d", "correlate2d") if op in be.provides]
    parts = []
    if ranks:
        parts.append("conv " + "/".join(f"{r}d" for r in ranks))
    if any(op.startswith("conv_transpose") for op in be.provides):
        parts.append("transpose")
    if any(op.endswith(("_input", "_weight")) for op in be.provides):
        parts.append("grads")
    if sig:
        parts.append("+".join(s[:4] for s in sig))
    if ranks:
        parts.append("groups" if c.groups else "no groups")
        if c.max_dilation == 1:
            parts.append("no dilation")
        modes = [m for m in c.padding_modes if m != "zeros"]
        if modes:
            parts.append("modes " + ",".join(modes))
    parts.append("dtypes " + ",".join(c.dtypes))
    return "; ".join(parts)


PROBES = {"flip": flip, "same": same, "output_padding": output_padding, "NaN": nan,
          "f16 sum": lambda be: half_sum(be, "f16"), "bf16 sum": lambda be: half_sum(be, "bf16"),
          "int exact": int_exact, "supports": supports}


def table(bes) -> dict:
    """backend name -> {column: cell} for every available backend."""
    out = {}
    for be in bes:
        if be.unavailable:
            continue
        row = {}
        for col, fn in PROBES.items():
            try:
                row[col] = fn(be)
            except Exception as e:        # a probe that cannot run says why; the table goes on
                row[col] = f"error: {type(e).__name__}: {e}"[:60]
        out[be.name] = row
    return out


def render_text(t: dict, width: int = 100) -> str:
    """One block per backend (name, then the cells folded to ``width``): fits a terminal."""
    lines = ["cross-library behaviour (convspec/reporting/behaviours.py):"]
    for name, row in t.items():
        lines.append(f"  {name}")
        for col in COLUMNS:
            lines += textwrap.wrap(f"{col}: {row.get(col, '-')}", width, initial_indent="    ",
                                   subsequent_indent="      ")
    return "\n".join(lines)


def render_markdown(t: dict) -> str:
    head = "| backend | " + " | ".join(COLUMNS) + " |"
    rows = [head, "|" + "---|" * (len(COLUMNS) + 1)]
    for name, row in t.items():
        rows.append(f"| {name} | " + " | ".join(str(row.get(c, "-")).replace("|", "/") for c in COLUMNS) + " |")
    return "\n".join(rows)


def render_html(t: dict) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr><th>" + html.escape(name) + "</th>" + "".join(
        f"<td>{html.escape(str(row.get(c, '-')))}</td>" for c in COLUMNS) + "</tr>" for name, row in t.items())
    return f"<table class='behaviours'><tr><th>backend</th>{head}</tr>{body}</table>"
