"""Portable golden vectors: .npz files plus a JSON manifest, for implementations in any language.

The set walks each parameter's boundary values systematically (kernel larger than the input,
padding at and beyond the kernel size, stride beyond the kernel, dilation, depthwise and grouped,
batch 1 and > 1, 1x1, single pixel, whole-input kernels, many channels, non-square everything) for
conv2d, the same walk in 1-D and 3-D (plus asymmetric (before, after) padding), the transposed convs
and the input and weight gradients in every rank (output_padding below and at or above the stride),
and every mode / kernel parity / kernel-larger case for convolve2d and correlate2d; each in the exact
integer regime (allowed error 0) and the float regime (per-element allowed error of a direct
algorithm in that dtype, from :mod:`convspec.truth.tolerance`).

Manifest (``manifest.json``, schema ``convspec-vectors/2``)::

    {"schema": "convspec-vectors/2", "contract": {...}, "vectors": [
       {"id": "conv3d/grouped/f32/int", "op": "conv3d", "rank": 3, "descriptor": "n2c4d3h4w5_o2k2x3x2_..._f32_int",
        "file": "conv3d-grouped-f32-int.npz", "inputs": ["x", "w", "b"],
        "params": {"stride": [1, 1, 2], "padding": [[0, 0], [1, 2], [0, 0]], "dilation": [1, 1, 1], "groups": 2},
        "output": {"shape": [...], "dtype": "float32"}, "accumulation": "f32"}, ...]}

``inputs`` names the arrays in the order of the op's positional parameters (contract.LABELS: x, w, b;
w, grad_out; x, grad_out; a, k); ``padding`` is explicit (before, after) pairs, one per spatial axis in
(D, H, W) order; a transposed conv adds ``output_padding``; a gradient op adds its shape argument
(``input_shape`` or ``weight_shape``).  Each .npz holds the inputs, ``expected`` (float64) and
``allowed`` (float64, same shape): a result passes when |result - expected| <= allowed elementwise, and
its shape and dtype equal ``output``.  Readers of ``convspec-vectors/1`` sets (conv2d and the signal
ops; padding one int per axis) are still served by ``check``.
"""

from __future__ import annotations

import json
import os

import numpy as np

from convspec.errors import ContractViolation, Hang
from convspec.model.case import Case
from convspec.model.contract import __doc__ as contract_doc
from convspec.model.ops import LABELS, op_kind
from convspec.model.problem import Problem, SignalProblem, TransposeProblem, dtype_name, parse_any
from convspec.reporting.results import VECTORS_SCHEMA as SCHEMA
from convspec.reporting.results import VECTORS_SCHEMA_V1 as SCHEMA_V1
from convspec.truth.oracle import conv_allowed, conv_exact, family_expect_acc, signal_allowed
from convspec.truth.tolerance import accumulation_for, compare

BASE = Problem(n=2, c=3, spatial=(7, 6), o=4, kernel=(3, 2))
CONV_BOUNDARIES = {
    "base-non-square": {},
    "single-pixel": dict(n=1, c=1, spatial=(1, 1), o=1, kernel=(1, 1)),
    "kernel-larger-than-input": dict(spatial=(2, 3), kernel=(4, 5), pads=(2, 2)),
    "padding-equals-kernel": dict(pads=(3, 2)),
    "padding-beyond-kernel": dict(pads=(4, 3)),
    "stride-beyond-kernel": dict(kernel=(2, 1), stride=(3, 4)),
    "stride-equals-input": dict(stride=(7, 6)),
    "dilation": dict(dilation=(2, 3)),
    "dilated-kernel-fills-input": dict(dilation=(3, 5)),
    "depthwise": dict(c=4, g=4, o=8),
    "grouped": dict(c=6, g=3, o=3),
    "batch-1": dict(n=1),
    "batch-5": dict(n=5),
    "1x1": dict(kernel=(1, 1)),
    "1x1-strided-padded": dict(kernel=(1, 1), stride=(2, 3), pads=(1, 0)),
    "bias": dict(bias=True),
    "whole-input-kernel": dict(kernel=(7, 6)),
    "many-channels": dict(c=16, o=5),
    "everything": dict(n=3, c=6, spatial=(11, 9), o=4, kernel=(3, 2), stride=(2, 1), pads=(1, 2), dilation=(2, 1), g=2,
                       bias=True),
    "large": dict(n=1, c=16, spatial=(40, 33), o=8, kernel=(7, 5), pads=(3, 2)),
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


#: 1-D and 3-D conv problems (the 2-D walk above, in the other ranks, with asymmetric padding pairs)
RANK_CONV = {
    1: {"base": "n2c3w9_o4k3", "kernel-larger-than-input": "n1c2w3_o2k5_p2-1", "padding-pairs": "n2c3w8_o2k4_p0-3",
        "stride-beyond-kernel": "n2c3w11_o2k2_s3", "dilation": "n1c2w12_o3k3_d4_bias", "depthwise": "n1c4w7_o8k3_p1_g4",
        "grouped": "n2c6w9_o3k2_s2_p1-0_g3_bias", "1x1": "n2c5w6_o3k1", "whole-input-kernel": "n2c3w7_o2k7",
        "everything": "n3c6w17_o4k3_s2_p2-1_d2_g2_bias"},
    3: {"base": "n1c2d4h5w4_o3k3x2x2", "kernel-larger-than-input": "n1c1d2h3w2_o2k3x4x3_p1x2x1",
        "padding-pairs": "n1c2d3h4w5_o2k2x3x2_p1-0x0-2x1", "stride-beyond-kernel": "n1c2d5h7w6_o2k2x1x2_s3x4x3",
        "dilation": "n1c2d5h6w5_o2k2x3x2_d2x2x3_bias", "depthwise": "n1c3d3h4w4_o6k2x2x2_p1x1x0_g3",
        "grouped": "n2c4d3h4w5_o2k2x3x2_s1x1x2_p0x1-2x0_g2_bias", "1x1": "n2c4d2h3w3_o3k1x1x1",
        "whole-input-kernel": "n1c2d2h3w3_o2k2x3x3", "everything": "n2c4d5h6w7_o2k2x3x2_s2x1x2_p1x2-0x1_d1x2x1_g2_bias"},
}
#: transposed-conv / gradient problems in every rank (output_padding below, and at or above, the stride)
RANK_FAMILY = {
    1: {"base": "tn2c3w5_o2k3", "strided": "tn2c3w4_o2k3_s2_p1_op1", "op-below-dilation": "tn1c2w4_o2k2_s1_op1_d2",
        "grouped-bias": "tn2c4w5_o6k2_s3_p1_op2_d1_g2_bias"},
    2: {"base": "tn2c3h4w5_o2k3x2", "strided": "tn2c3h3w4_o2k3x3_s2x2_p1x0_op1x1",
        "op-below-dilation": "tn1c2h3w3_o2k2x2_s1x2_op1x0_d2x1", "grouped-bias": "tn2c4h3w4_o6k2x3_s3x2_p1x1_op2x1_g2_bias"},
    3: {"base": "tn1c2d2h3w3_o2k2x2x2", "strided": "tn1c2d2h3w2_o2k2x2x2_s2x2x1_p1x0x0_op1x1x0",
        "op-below-dilation": "tn1c2d2h2w3_o2k2x1x2_s1x1x2_op1x0x0_d2x1x1",
        "grouped-bias": "tn2c4d2h2w3_o4k2x2x2_s2x1x2_p0x1x1_op1x0x1_g2_bias"},
}


def rank_conv_vectors(dtypes=("f32", "f64")):
    """conv1d / conv3d vectors: (id, op, case)."""
    for rank, problems in RANK_CONV.items():
        for name, text in problems.items():
            for dt in dtypes:
                for regime in ("int", "flt"):
                    p = Problem.parse(text).with_(dtype=dt, regime=regime)
                    yield f"conv{rank}d/{name}/{dt}/{regime}", f"conv{rank}d", Case.seeded(p, 0)


def family_vectors(dtypes=("f32", "f64")):
    """Transposed conv and gradient vectors in every rank: (id, op, case); a gradient vector only where
    output_padding lies below the stride (the problem is then a conv's backward pass)."""
    for rank, problems in RANK_FAMILY.items():
        for name, text in problems.items():
            for dt in dtypes:
                for regime in ("int", "flt"):
                    p = TransposeProblem.parse(text).with_(dtype=dt, regime=regime)
                    rng = np.random.default_rng([0, 0xF0D])
                    case = Case.seeded(p, 0)
                    r = 4 if regime == "int" else None
                    xf = (rng.integers(-r, r + 1, size=p.y_shape).astype(np.float64) if r
                          else rng.standard_normal(p.y_shape)).astype(p.np_dtype)
                    case = Case(p, {**case.arrays, "xf": xf})
                    ops = [f"conv_transpose{rank}d"]
                    if p.gradient_ok:
                        ops += [f"conv{rank}d_input"] + ([f"conv{rank}d_weight"] if not p.bias else [])
                    for op in ops:
                        yield f"{op}/{name}/{dt}/{regime}", op, case


#: contract label -> the case's own array name, per family op kind (the family case holds x = the
#: transposed conv's input = grad_out, and xf = the forward input)
_CASE_NAMES = {"transpose": {"x": "x", "w": "w", "b": "b"}, "input": {"w": "w", "grad_out": "x"},
               "weight": {"x": "xf", "grad_out": "x"}, "conv": {"x": "x", "w": "w", "b": "b"},
               "signal": {"a": "a", "k": "k"}}


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


def _entry(vid, op, case, fname, acc, out_shape, out_dtype, inputs):
    p = case.problem
    e = {"id": vid, "op": op, "rank": p.rank if isinstance(p, Problem) else len(p.a), "descriptor": str(p),
         "file": fname, "inputs": inputs,
         "output": {"shape": list(out_shape), "dtype": str(np.dtype(out_dtype))}, "accumulation": acc}
    kind = op_kind(op)
    if kind == "signal":
        e["params"] = {"mode": p.mode}
        return e
    e["params"] = {"stride": list(p.stride), "padding": [list(t) for t in p.pads], "dilation": list(p.dilation),
                   "groups": p.g}
    if kind == "transpose":
        e["params"]["output_padding"] = list(p.out_pad)
    elif kind == "input":
        e["params"]["input_shape"] = list(p.y_shape)
    elif kind == "weight":
        e["params"]["weight_shape"] = list(p.w_shape)
    return e


def _save(out, vid, op, case, expected, allowed):
    """The .npz of one vector: the inputs under their contract names, expected and allowed (float64)."""
    names = _CASE_NAMES[op_kind(op)]
    arrays = {lab: case.arrays.get(names[lab]) for lab in LABELS[op]}
    arrays = {k: v for k, v in arrays.items() if v is not None}
    fname = vid.replace("/", "-") + ".npz"
    np.savez(os.path.join(out, fname), **arrays, expected=np.asarray(expected, dtype=np.float64),
             allowed=np.asarray(allowed, dtype=np.float64))
    return fname, list(arrays)


def write(out: str, dtypes=("f32", "f64")) -> int:
    """Write the vector set into ``out``; returns the number of vectors."""
    os.makedirs(out, exist_ok=True)
    entries = []
    conv = [(vid, "conv2d", case) for vid, case in conv_vectors(dtypes)] + list(rank_conv_vectors(dtypes))
    for vid, op, case in conv:
        y, _ = conv_exact(case)
        acc = accumulation_for(case.problem.dtype)
        fname, inputs = _save(out, vid, op, case, y, conv_allowed(acc, case))
        entries.append(_entry(vid, op, case, fname, acc.name, y.shape, case.problem.np_dtype, inputs))
    for vid, op, case in family_vectors(dtypes):
        acc = accumulation_for(case.problem.dtype)
        y, allowed = family_expect_acc(acc, op, case)
        fname, inputs = _save(out, vid, op, case, y, allowed)
        entries.append(_entry(vid, op, case, fname, acc.name, np.shape(y), case.problem.np_dtype, inputs))
    for vid, op, case in signal_vectors(tuple(d for d in dtypes if d == "f64") or ("f64",)):
        acc = accumulation_for(case.problem.dtype)
        y, allowed = signal_allowed(acc, case.a, case.k, case.problem.mode, op)
        fname, inputs = _save(out, vid, op, case, y, allowed)
        entries.append(_entry(vid, op, case, fname, acc.name, y.shape, np.result_type(case.a, case.k), inputs))
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
    if manifest.get("schema") not in (SCHEMA, SCHEMA_V1):
        raise ValueError(f"{folder}/manifest.json: schema {manifest.get('schema')!r}, expected {SCHEMA!r} "
                         f"(or {SCHEMA_V1!r})")
    failed = skipped = 0
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
        names = _CASE_NAMES[op_kind(e["op"])]
        case = Case(p, {names[k]: data[k] for k in e["inputs"]})
        allowed = data["allowed"]
        if be.caps.accuracy == "fast" or be.caps.mode or be.caps.accumulate:
            kind = op_kind(e["op"])
            acc = be.accumulation(p.dtype if isinstance(p, Problem) else dtype_name(np.result_type(case.a, case.k)),
                                  e["op"])
            allowed = (conv_allowed(acc, case) if kind == "conv" else family_expect_acc(acc, e["op"], case)[1]
                       if kind != "signal" else signal_allowed(acc, case.a, case.k, p.mode, e["op"])[1])
        try:
            y = be.call(e["op"], case, expect=(tuple(e["output"]["shape"]), np.dtype(e["output"]["dtype"])))
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
