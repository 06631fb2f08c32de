"""Everything a person reads: the failure message (built here and nowhere else), verdict tables,
and the Markdown / JSON / HTML audit reports."""

from __future__ import annotations

import math

import numpy as np

from convspec.reporting.results import describe_error

MAX_SHOWN = 400          # largest array printed in full in a failure message


def fmt_array(name: str, a) -> str:
    a = np.asarray(a)
    if a.size <= MAX_SHOWN:
        body = np.array2string(a, max_line_width=110, threshold=MAX_SHOWN + 1)
    else:
        body = f"<{a.dtype} array of shape {a.shape}: min {a.min():.6g}, max {a.max():.6g}> (see the repro command)"
    return f"  {name} {tuple(a.shape)} {a.dtype}:\n" + "\n".join("    " + line for line in body.splitlines())


def verdict_cell(o) -> str:
    """One cell of the verdict table for an Outcome (or a skip reason string)."""
    if isinstance(o, str):
        return "—"
    return {"broken": "✗ broken", "error": "✗ error", "refuted": "✗ refuted",
            "conditional": "✓ only if cond.", "no-counterexample": "✓ holds"}.get(o.found, "✓ holds")


#: one-character marks of the terminal audit, and the legend that explains them
MARKS = {"holds": "✓", "refuted": "✗", "conditional": "~", "broken": "!", "error": "E", "no-counterexample": "?"}
NOT_APPLICABLE = "·"
UNEXPECTED = "*"
LEGEND = ("✓ holds  ✗ refuted  ~ holds only under its condition  ? no counterexample found  ! broken contract  "
          "E error in the property  · not applicable  * differs from the expected verdict")


def verdict_mark(o) -> str:
    """Two-character cell of the terminal audit: a verdict mark, then '*' when unexpected."""
    if o is None or isinstance(o, str):
        return NOT_APPLICABLE + " "
    return MARKS.get(o.found, "?") + (" " if o.ok else UNEXPECTED)


def ratio_words(r) -> str:
    """An error ratio for people: a number, or what an infinite one means."""
    if r is None:
        return "n/a"
    if math.isinf(r):
        return "error where none is allowed"
    return f"{r:.3g}"


def failure_message(o) -> str:
    """The one failure message: claim, verdicts, descriptor, minimal arrays, worst element, repro."""
    c = o.claim
    lines = [f"claim {c.id} on {o.backend}: expected {c.describe_expected()}, found {o.found}",
             f"  statement: {c.statement}", f"  source: {c.source}", "", o.message]
    if o.case is not None:
        lines += ["", f"problem: {o.case.problem}" + (f"  (data seed {o.case.seed})" if o.case.seed is not None else "")]
        shown = dict(o.case.arrays)
        for k, v in (o.sides or {}).items():
            if k not in shown and v is not None:
                shown[k] = v
        for k, v in shown.items():
            if v is not None:
                lines.append(fmt_array(k, v))
    comp = getattr(o.failure, "comparison", None)
    if comp is not None and comp.index is not None:
        lines += ["", f"worst element: {describe_error(o)}"]
    if o.repro:
        lines += ["", "reproduce:", "  " + o.repro]
    lines += ["", f"({o.examples} examples in {o.seconds:.2f}s; worst error/allowed seen: {ratio_words(o.worst_ratio)})"]
    return "\n".join(lines)
