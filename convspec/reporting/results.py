"""The one result model: an engine :class:`~convspec.search.engine.Outcome` as a JSON-ready dict.

:func:`outcome_dict` feeds every machine-readable output -- the pytest JSON report
(``convspec-results``), the JUnit ``convspec`` property (the same dict as JSON) and the audit
(``convspec-audit``) -- so a verdict reads the same wherever it is written.  The schemas ship in
``convspec/schemas/`` (:func:`convspec.reporting.paths.schema_path`); a field that changes meaning moves the version.

Rules: a counterexample is always an object (or null); numbers are JSON numbers, and a quantity that
is not finite (an error ratio where no error is allowed) is ``null`` with its meaning said in words
(``counterexample.error``).
"""

from __future__ import annotations

import json
import math

import numpy as np

from convspec.reporting.paths import schema_path

RESULTS_SCHEMA = "convspec-results/2"
AUDIT_SCHEMA = "convspec-audit/2"
VECTORS_SCHEMA = "convspec-vectors/2"
#: the earlier vector manifests (conv2d and the signal ops), still read by ``check-vectors``
VECTORS_SCHEMA_V1 = "convspec-vectors/1"
MAX_ARRAY_NUMEL = 4096          # larger arrays are left out of reports (the repro command has them)
MAX_MESSAGE = 4000


def number(x):
    """A finite real as a JSON number (int or float); None for None, NaN, +-inf and non-real values."""
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, (complex, np.complexfloating)):
        if complex(x).imag != 0:
            return None
        x = complex(x).real
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        return None
    if isinstance(x, (int, np.integer)):
        return int(x)
    return f


def array_json(a):
    """An array as nested lists of JSON numbers; non-finite values are null; complex arrays are
    ``{"real": [...], "imag": [...]}``."""
    a = np.asarray(a)
    if a.dtype.kind == "c":
        return {"real": array_json(a.real), "imag": array_json(a.imag)}
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        obj = a.astype(object)
        obj[~np.isfinite(a)] = None
        return obj.tolist()
    if a.dtype.kind in "biuf":
        return a.tolist()
    return np.asarray(a, dtype=np.float64).tolist()


def _comparison(o):
    return getattr(getattr(o, "failure", None), "comparison", None)


def worst_dict(o) -> dict | None:
    """The worst element of the failing comparison: index, observed, expected, allowed, ratio."""
    c = _comparison(o)
    if c is None or getattr(c, "index", None) is None:
        return None
    return {"index": [int(i) for i in c.index], "observed": number(c.observed), "expected": number(c.expected),
            "allowed": number(c.allowed), "ratio": number(c.ratio)}


def describe_error(o) -> str:
    """The counterexample's error in words (never an infinite ratio)."""
    first = (o.message or "").splitlines()[0] if o.message else ""
    if o.found in ("broken", "error"):
        return f"{o.found}: {first}"
    c = _comparison(o)
    if c is None or getattr(c, "index", None) is None:
        return first
    try:
        err = abs(complex(c.observed) - complex(c.expected))
    except (TypeError, ValueError):
        err = math.nan
    where = f"at {list(c.index)}: observed {c.observed!r}, expected {c.expected!r}"
    if not math.isfinite(err):
        what = "a non-finite result where a finite one is expected"
    elif c.allowed == 0:
        what = f"off by {err:.3g} where exact equality is required"
    else:
        what = f"off by {err:.3g}, {c.ratio:.3g} times the allowed {c.allowed:.3g}"
    bad = f" ({c.n_bad} of {c.size} elements out of bounds)" if getattr(c, "n_bad", 0) > 1 else ""
    return f"{what} {where}{bad}"


def counterexample_dict(o) -> dict | None:
    """The (shrunk) counterexample of an outcome as an object, or None."""
    case = getattr(o, "case", None)
    if case is None:
        return None
    arrays, left_out = {}, []
    for k, v in case.arrays.items():
        if v is None:
            continue
        if np.asarray(v).size <= MAX_ARRAY_NUMEL:
            arrays[k] = array_json(v)
        else:
            left_out.append(k)
    return {"problem": str(case.problem), "seed": case.seed, "arrays": arrays, "arrays_left_out": left_out,
            "error": describe_error(o), "worst": worst_dict(o), "message": (o.message or "")[:MAX_MESSAGE],
            "repro": o.repro or ""}


def outcome_dict(o, *, timings: bool = True) -> dict:
    """One (claim, backend) outcome.  ``timings=False`` leaves out ``seconds`` (deterministic reports)."""
    c = o.claim
    d = {"claim": c.id, "backend": o.backend, "expected": getattr(o, "expected", "") or c.expected,
         "expected_text": c.describe_expected(),
         "found": o.found, "matches_expected": bool(o.ok), "counterexample": counterexample_dict(o),
         "message": (o.message or "")[:MAX_MESSAGE], "worst_error_ratio": number(o.worst_ratio),
         "worst_where": getattr(o, "worst_where", "") or "", "examples": int(o.examples)}
    declined = getattr(o, "declined", None)
    if declined:
        d["declined"] = {op: {"problem": desc, "message": msg[:MAX_MESSAGE]} for op, (desc, msg) in sorted(declined.items())}
    if timings:
        d["seconds"] = round(float(o.seconds), 3)
    return d


def not_applicable_dict(claim_id: str, backend: str, reason: str) -> dict:
    return {"claim": claim_id, "backend": backend, "found": "not-applicable", "reason": reason}


SCHEMA_FILES = {"convspec-results": "convspec-results", "convspec-audit": "convspec-audit",
                "convspec-vectors": "convspec-vectors"}


def validate(doc: dict) -> None:
    """Validate a report against the shipped schema its ``schema`` field names (needs ``jsonschema``,
    the ``test`` extra); raises ``jsonschema.ValidationError`` (or ValueError for an unknown schema)."""
    import jsonschema  # lazy: jsonschema (the test extra, 0.2 s) validates; the reports are written without it
    from referencing import Registry, Resource

    name = str(doc.get("schema", "")).partition("/")[0]
    if name not in SCHEMA_FILES:
        raise ValueError(f"unknown report schema {doc.get('schema')!r}")
    resources = []
    for n in ("convspec-counterexample", *SCHEMA_FILES.values()):
        with open(schema_path(n), encoding="utf-8") as f:
            s = json.load(f)
        resources.append((s["$id"], Resource.from_contents(s)))
    registry = Registry().with_resources(resources)
    with open(schema_path(SCHEMA_FILES[name]), encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    cls(schema, registry=registry).validate(doc)
