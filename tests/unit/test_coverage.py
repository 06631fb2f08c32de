"""Self-tests of convspec.drawing.coverage: every covering-array row realises its levels (checked by predicates written
here from the level definitions, not by the realiser's code), the arrays are the same in two processes, a
whole-contract declaration reaches 100% 3-way coverage, and rows stay inside the capabilities."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from convspec.backends.base import Capabilities
from convspec.drawing import coverage
from convspec.model.forms import layout as form_layout

WHOLE = Capabilities(dtypes=("f64", "f32", "f16", "bf16"), padding_strings=True, padding_pairs=True,
                     padding_modes=("zeros", "reflect", "replicate", "circular"))
OPS = ("conv2d", "conv_transpose1d", "conv1d_input", "conv1d_weight", "correlate2d")


def _channels(v):
    return "1" if v == 1 else "8" if v == 8 else "16" if v == 16 else ">1"


def _mem_ok(a, lay):
    if lay == "C":
        return True
    b = form_layout(np.asarray(a), lay)
    if lay == "big":
        return b.base is not None and b.__array_interface__["data"][0] != b.base.__array_interface__["data"][0]
    return not b.flags.c_contiguous


def _arrays(op, case):
    kind = coverage.kind_of(op)[0]
    a = case.arrays
    return {"conv": lambda: {"x": a["x"], "w": a["w"], "b": a.get("b")},
            "transpose": lambda: {"x": a["x"], "w": a["w"], "b": a.get("b")},
            "input": lambda: {"w": a["w"], "grad_out": a["x"]},
            "weight": lambda: {"x": a["xf"], "grad_out": a["x"]},
            "signal": lambda: {"a": a["a"], "k": a["k"]}}[kind]()


def observed(op, row):
    """The levels of a realised row, read off its problem, keywords, data and form."""
    p, kw, case = row.case.problem, row.kwargs, row.case
    kind = coverage.kind_of(op)[0]
    form = case.form
    got = {"dtype": p.dtype, "readonly": "yes" if form is not None and form.readonly else "no"}
    arrays = _arrays(op, case)
    for name, arr in arrays.items():
        lay = form.layout(name) if form is not None else "C"
        got["mem_" + name] = lay if arr is not None and _mem_ok(arr, lay) else ("C" if lay == "C" else "?")
    vals = [np.asarray(v) for v in arrays.values() if v is not None]
    finite = all(np.isfinite(v).all() for v in vals)
    integral = finite and all(np.array_equal(v, np.round(v)) for v in vals)
    got["regime"] = ("special" if not finite else "int" if p.regime == "int" and integral
                     else p.regime if p.regime in ("dya", "flt") else "?")
    if kind == "signal":
        got["mode"] = kw["mode"]
        for i in (0, 1):
            m, q = p.a[i], p.k[i]
            got[f"rel{i}"] = "shorter" if m < q else "equal" if m == q else "longer"
        par = [q % 2 for q in p.k]
        got["parity"] = "odd" if par == [1, 1] else "even" if par == [0, 0] else "mixed"
        return got
    k, d, s, (lo, hi), L = p.kernel[-1], p.dilation[-1], p.stride[-1], p.pads[-1], p.spatial[-1]
    E = d * (k - 1) + 1
    got["rank"] = str(p.rank)
    got["batch"] = "1" if p.n == 1 else ">=16" if p.n >= 16 else ">1"
    got["cin"], got["cout"] = _channels(p.c), _channels(p.o)
    got["groups"] = ("1" if p.g == 1 else "depthwise" if p.g == p.c and p.o == p.c else
                     "depthwise-mult" if p.g == p.c and p.o % p.c == 0 and p.o // p.c >= 2 else
                     "grouped" if p.c // p.g >= 2 and p.g < p.c else "?")
    asym = any(v != 1 for v in p.kernel[:-1]) and len(set(p.kernel)) > 1 and k > 1
    got["kernel"] = ("asym" if asym else "1" if k == 1 else "3" if k == 3
                     else "5|7" if k in (5, 7) else ">=8" if k >= 8 else "even" if k % 2 == 0 else "?")
    if any(v != 1 for v in p.kernel[:-1]) and not asym:
        got["kernel"] = "?"
    got["dilation"] = "1" if d == 1 else ">=2" if k >= 2 else "?"
    got["stride"] = "1" if s == 1 else "2" if s == 2 else ">kernel" if s > E and s >= 3 else "?"
    got["input"] = "<extent" if L < E else "=extent" if L == E else ">extent"
    if kind in ("conv", "transpose"):
        got["bias"] = "yes" if p.bias else "no"
    got["layout"] = "NCHW"
    if kind == "conv":
        pad = kw.get("padding")
        got["padding"] = (pad if isinstance(pad, str) else "0" if lo == hi == 0 else "pair" if lo != hi
                          else "sym" if lo < E else ">=extent")
        mode = kw.get("padding_mode", "zeros")
        padded = lo + hi > 0
        got["mode"] = mode if mode == "zeros" or (padded and (mode != "reflect" or max(lo, hi) < L)
                                                  and (mode != "circular" or max(lo, hi) <= L)) else "?"
    else:
        got["padding"] = "0" if lo == 0 else "sym" if lo < E else ">=extent"
        op_ = p.out_pad[-1]
        got["outpad"] = "0" if op_ == 0 else "<stride" if op_ < s else "<dilation" if op_ < d else "?"
    return got


@pytest.mark.parametrize("op", OPS)
def test_every_row_realises_its_levels(op):
    rows = coverage.rows(op, WHOLE)
    assert rows
    for row in rows:
        got = observed(op, row)
        diff = {k: (v, got.get(k)) for k, v in row.levels.items() if got.get(k) != v}
        assert not diff, f"{op}: row {row.levels} realised as {row.case.problem} {row.kwargs}: {diff}"
        assert row.case.numel() <= 100000, f"{row.case.problem} is not small"


@pytest.mark.parametrize("op", OPS)
def test_whole_contract_reaches_full_3way_coverage(op):
    covered, possible = coverage.figure(op, WHOLE)
    assert possible > 0 and covered == possible, f"{op}: {covered}/{possible}"


def test_same_rows_in_two_processes():
    code = ("import json; from convspec.drawing import coverage; from convspec.backends.base import Capabilities; "
            "caps = Capabilities(dtypes=('f64','f32','f16'), padding_strings=True, padding_modes=('zeros','reflect')); "
            "print(json.dumps([coverage.level_rows(op, caps) for op in ('conv1d', 'convolve2d')]))")
    import tempfile
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin",
                                "CONVSPEC_CACHE": tempfile.mkdtemp()}).stdout      # each process generates
            for seed in ("1", "2")]
    assert outs[0] == outs[1] and json.loads(outs[0])[0]


def test_the_disk_cache_gives_the_generated_rows(tmp_path, monkeypatch):
    """A second process reads the rows and the figure from the cache: the same as generated."""
    monkeypatch.setenv("CONVSPEC_CACHE", str(tmp_path))
    code = ("import json; from convspec.drawing import coverage; from convspec.backends.base import Capabilities; "
            "caps = Capabilities(dtypes=('f32',), padding_pairs=True); "
            "print(json.dumps([coverage.level_rows('conv1d', caps), coverage.figure('conv1d', caps)]))")
    env = {"PATH": "/usr/bin:/bin", "CONVSPEC_CACHE": str(tmp_path)}
    first, second = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    env=env).stdout for _ in range(2))
    assert list((tmp_path / "coverage").glob("*.json")) and first == second and json.loads(first)[1][0] > 0


def test_rows_respect_the_capabilities():
    caps = Capabilities(dtypes=("f32",), max_kernel=3, max_stride=2, max_dilation=1, max_batch=2,
                        max_channels=4, groups=True, bias=False)
    rows = coverage.rows("conv2d", caps)
    assert rows
    for row in rows:
        p = row.case.problem
        ok, why = caps.fits(p)
        assert ok, f"{p}: {why}"
        assert p.o // p.g <= 4 and not isinstance(row.kwargs.get("padding"), str)
        assert "padding_mode" not in row.kwargs
        assert row.levels["padding"] in ("0", "sym", ">=extent")
    seen = {k: {r.levels[k] for r in rows} for k in ("kernel", "stride", "dilation", "batch", "padding")}
    assert seen["kernel"] == {"1", "3", "even", "asym"} and seen["stride"] == {"1", "2"}
    assert seen["dilation"] == {"1"} and seen["batch"] == {"1", ">1"}
    assert coverage.figure("conv2d", caps)[0] == coverage.figure("conv2d", caps)[1]


def test_index_limit_tier_within_bounds():
    cases = coverage.index_limit_cases("conv2d", Capabilities(dtypes=("f32",)))
    assert len(cases) == 12
    extents = sorted(max(c.problem.n, c.problem.c, c.problem.o, max(c.problem.spatial)) for c in cases)
    assert extents == sorted([65535, 65536, 65537] * 4)
    assert all(c.problem.dtype == "f32" for c in cases)
    bounded = coverage.index_limit_cases("conv2d", Capabilities(max_size=65536, max_channels=100, max_batch=65535))
    assert sorted(max(c.problem.n, c.problem.c, c.problem.o, max(c.problem.spatial)) for c in bounded) == [65535, 65535, 65536]


def test_the_level_predicates_reject_a_wrong_realisation():
    """The predicates can fail: a row whose problem lost its stride, or whose form was dropped, is caught."""
    from dataclasses import replace as dc_replace
    row = next(r for r in coverage.rows("conv2d", WHOLE) if r.levels["stride"] == "2" and r.levels["mem_x"] != "C")
    bad = dc_replace(row.case, problem=row.case.problem.with_(stride=(1, 1)), form=None)
    got = observed("conv2d", coverage.Row(row.levels, bad, row.kwargs))
    assert got["stride"] != "2" and got["mem_x"] != row.levels["mem_x"]
