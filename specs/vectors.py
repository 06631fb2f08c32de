"""Portable golden vectors: .npz files plus a JSON manifest, for implementations in any language.

The set walks each parameter's boundary values systematically (kernel larger than the input,
padding at and beyond the kernel size, stride beyond the kernel, dilation, depthwise and grouped,
batch 1 and > 1, 1x1, single pixel, whole-input kernels, many channels, non-square everything) for
conv2d, and every mode / kernel parity / kernel-larger case for convolve2d and correlate2d; each in
the exact integer regime (allowed error 0) and the float regime (per-element allowed error of a
direct algorithm in that dtype, from :mod:`specs.tolerance`).

Manifest (``manifest.json``, schema ``convspec-vectors/1``)::

    {"schema": "convspec-vectors/1", "contract": {...}, "vectors": [
       {"id": "conv2d/depthwise/f32/int", "op": "conv2d", "descriptor": "n1c4h7w6_o8k3x2_..._f32_int",
        "file": "conv2d-depthwise-f32-int.npz", "inputs": ["x", "w", "b"],
        "params": {"stride": [1, 1], "padding": [0, 0], "dilation": [1, 1], "groups": 4},
        "output": {"shape": [...], "dtype": "float32"}, "accumulation": "f32"}, ...]}

Each .npz holds the inputs (``x``, ``w``, optional ``b``; or ``a``, ``k``), ``expected`` (float64,
exact) and ``allowed`` (float64, same shape): a result passes when |result - expected| <= allowed
elementwise, and its shape and dtype equal ``output``.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .case import Case
from .contract import guarded_call
from .oracle import conv_allowed, conv_exact, signal_allowed
from .problem import Problem, SignalProblem, dtype_name
from .results import VECTORS_SCHEMA as SCHEMA
from .tolerance import accumulation_for, compare

BASE = Problem(n=2, c=3, h=7, w=6, o=4, kh=3, kw=2)
CONV_BOUNDARIES = {
    "base-non-square": {},
    "single-pixel": dict(n=1, c=1, h=1, w=1, o=1, kh=1, kw=1),
    "kernel-larger-than-input": dict(h=2, w=3, kh=4, kw=5, ph=2, pw=2),
    "padding-equals-kernel": dict(ph=3, pw=2),
    "padding-beyond-kernel": dict(ph=4, pw=3),
    "stride-beyond-kernel": dict(kh=2, kw=1, sh=3, sw=4),
    "stride-equals-input": dict(sh=7, sw=6),
    "dilation": dict(dh=2, dw=3),
    "dilated-kernel-fills-input": dict(dh=3, dw=5),
    "depthwise": dict(c=4, g=4, o=8),
    "grouped": dict(c=6, g=3, o=3),
    "batch-1": dict(n=1),
    "batch-5": dict(n=5),
    "1x1": dict(kh=1, kw=1),
    "1x1-strided-padded": dict(kh=1, kw=1, sh=2, sw=3, ph=1, pw=0),
    "bias": dict(bias=True),
    "whole-input-kernel": dict(kh=7, kw=6),
    "many-channels": dict(c=16, o=5),
    "everything": dict(n=3, c=6, h=11, w=9, o=4, kh=3, kw=2, sh=2, sw=1, ph=1, pw=2, dh=2, dw=1, g=2, bias=True),
    "large": dict(n=1, c=16, h=40, w=33, o=8, kh=7, kw=5, ph=3, pw=2),
}
SIGNAL_SHAPES = {
    "odd-kernel": ((6, 7), (3, 3)),
    "even-kernel": ((6, 7), (2, 4)),
    "mixed-parity": ((5, 8), (3, 2)),
    "kernel-larger": ((3, 2), (5, 4)),
    "equal-size": ((4, 4), (4, 4)),
    "single": ((1, 1), (1, 1)),
}


def conv_vectors(dtypes=("f32", "f64")):
    for name, over in CONV_BOUNDARIES.items():
        for dt in dtypes:
            for regime in ("int", "flt"):
                p = BASE.with_(**over, dtype=dt, regime=regime)
                yield f"conv2d/{name}/{dt}/{regime}", Case.seeded(p, 0)


def signal_vectors(dtypes=("f64",)):
    for name, (a, k) in SIGNAL_SHAPES.items():
        for mode in ("full", "same", "valid"):
            if mode == "valid" and not (all(m >= q for m, q in zip(a, k)) or all(q >= m for m, q in zip(a, k))):
                continue
            for dt in dtypes:
                for regime in ("int", "flt"):
                    for op in ("convolve2d", "correlate2d"):
                        sp = SignalProblem(a=a, k=k, mode=mode, dtype=dt, regime=regime)
                        yield f"{op}/{name}/{mode}/{dt}/{regime}", op, Case.seeded(sp, 0)


def _entry(vid, op, case, fname, acc, out_shape, out_dtype):
    p = case.problem
    e = {"id": vid, "op": op, "descriptor": str(p), "file": fname,
         "inputs": [k for k, v in case.arrays.items() if v is not None],
         "output": {"shape": list(out_shape), "dtype": str(np.dtype(out_dtype))}, "accumulation": acc}
    if op == "conv2d":
        e["params"] = {"stride": [p.sh, p.sw], "padding": [p.ph, p.pw], "dilation": [p.dh, p.dw], "groups": p.g}
    else:
        e["params"] = {"mode": p.mode}
    return e


def write(out: str, dtypes=("f32", "f64")) -> int:
    """Write the vector set into ``out``; returns the number of vectors."""
    os.makedirs(out, exist_ok=True)
    entries = []
    for vid, case in conv_vectors(dtypes):
        y, _ = conv_exact(case)
        acc = accumulation_for(case.problem.dtype)
        allowed = conv_allowed(acc, case)
        fname = vid.replace("/", "-") + ".npz"
        np.savez(os.path.join(out, fname), **{k: v for k, v in case.arrays.items() if v is not None},
                 expected=y, allowed=np.asarray(allowed, dtype=np.float64))
        entries.append(_entry(vid, "conv2d", case, fname, acc.name, y.shape, case.problem.np_dtype))
    for vid, op, case in signal_vectors(tuple(d for d in dtypes if d == "f64") or ("f64",)):
        acc = accumulation_for(case.problem.dtype)
        y, allowed = signal_allowed(acc, case.a, case.k, case.problem.mode, op)
        fname = vid.replace("/", "-") + ".npz"
        np.savez(os.path.join(out, fname), a=case.a, k=case.k, expected=y, allowed=np.asarray(allowed, np.float64))
        entries.append(_entry(vid, op, case, fname, acc.name, y.shape, np.result_type(case.a, case.k)))
    from .contract import __doc__ as contract_doc
    manifest = {"schema": SCHEMA, "contract": contract_doc.strip(),
                "pass_rule": "shape and dtype equal output; |result - expected| <= allowed elementwise",
                "vectors": entries}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return len(entries)


def _fits(p, caps) -> tuple[bool, str]:
    if isinstance(p, SignalProblem):
        return p.dtype in caps.dtypes, f"dtype {p.dtype} not declared"
    return caps.fits(p)


def check(folder: str, be, verbose: bool = False):
    """Check backend/implementation ``be`` against the vector set in ``folder``.

    Returns (failed, total, skipped); prints one line per failure (and per vector with ``verbose``).
    """
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    if manifest.get("schema") != SCHEMA:
        raise ValueError(f"{folder}/manifest.json: schema {manifest.get('schema')!r}, expected {SCHEMA!r}")
    failed = skipped = 0
    from .check import ContractViolation
    from .contract import Hang
    from .problem import parse_any
    for e in manifest["vectors"]:
        with np.load(os.path.join(folder, e["file"])) as z:
            data = {k: z[k] for k in z.files}
        p = parse_any(e["descriptor"])
        ok, why = _fits(p, be.caps)
        if e["op"] not in be.provides or not ok:
            skipped += 1
            if verbose:
                print(f"skip {e['id']}: {'op not provided' if e['op'] not in be.provides else why}")
            continue
        case = Case(p, {k: data[k] for k in e["inputs"]})
        allowed = data["allowed"]
        if be.caps.accuracy == "fast" or be.caps.mode:
            acc = be.accumulation(p.dtype if isinstance(p, Problem) else dtype_name(np.result_type(case.a, case.k)))
            allowed = conv_allowed(acc, case) if e["op"] == "conv2d" else signal_allowed(
                acc, case.a, case.k, p.mode, e["op"])[1]
        try:
            y, _ = guarded_call(be.name, e["op"], be.ops[e["op"]], case, timeout=be.caps.timeout,
                                expect=(tuple(e["output"]["shape"]), np.dtype(e["output"]["dtype"])))
        except (ContractViolation, Hang) as err:
            failed += 1
            print(f"FAIL {e['id']} ({e['descriptor']}): {err}")
            continue
        c = compare(y, data["expected"], allowed)
        if not c.ok:
            failed += 1
            print(f"FAIL {e['id']} ({e['descriptor']}): {c.describe()}")
        elif verbose:
            print(f"ok   {e['id']} (error/allowed {c.ratio:.3g})")
    return failed, len(manifest["vectors"]), skipped
