"""Realisation: a row of levels -> the smallest problem in which every level holds and matters.

Each group of coupled factors is realised by a small exhaustive search over concrete candidates (a few dozen
per group, cached): the *spatial* group (the primary axis: kernel, dilation, stride, padding, padding mode or
output_padding, input extent; see :mod:`convspec.drawing.coverage.features` for the level definitions), the *channel*
group (groups, C_in, C_out) and the batch.  A combination of levels is **feasible** exactly when its search
finds a problem; the covering array's constraints are these feasibility tables (:mod:`convspec.drawing.coverage.array`),
so every generated row realises and no realisable combination is excluded.

The primary extent L is 1 only where the levels force it (kernel 1 and L = E), and a transposed conv's output
extent is at least 2, so that which axes of an array have size 1 follows from a few levels
(:func:`unit_pattern`); among the candidates the search takes the smallest kernel, dilation, extent, stride and
padding.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

from convspec.model.case import cast, fill, int_range
from convspec.model.forms import layout as form_layout
from convspec.model.problem import Problem, SignalProblem, TransposeProblem, signal_out_shape

_K = {"1": (1,), "3": (3,), "5|7": (5, 7), "even": (2, 4, 6), "asym": (3,), ">=8": (8, 9)}
_D = {"1": (1,), ">=2": (2, 3)}
_C = {"1": (1,), ">1": (3, 2, 4, 5, 6, 7, 9, 10, 12), "8": (8,), "16": (16,)}
_O = {"1": (1,), ">1": (3, 2, 4, 5, 6, 7, 9, 10, 12, 24, 32), "8": (8,), "16": (16,)}
_N = {"1": 1, ">1": 2, ">=16": 16}
SECONDARY = 2          # size of every spatial axis but the primary one


def _le(v, cap):
    return cap is None or v <= cap


def _strides(level: str, E: int):
    return {"1": (1,), "2": (2,), ">kernel": (max(3, E + 1),)}[level]


def _inputs(level: str, E: int):
    return {"<extent": range(E - 1, 0, -1), "=extent": (E,), ">extent": (E + 1, E + 2, E + 3)}[level]


def _mode_ok(mode: str, lo: int, hi: int, L: int) -> bool:
    if mode == "zeros":
        return True
    if lo + hi == 0:
        return False                      # a mode on an unpadded axis does not matter
    return {"reflect": max(lo, hi) < L, "circular": max(lo, hi) <= L, "replicate": True}[mode]


@lru_cache(maxsize=None)
def conv_axis(kernel, stride, dilation, padding, mode, inp, caps_key):
    """The primary axis of a conv row: (k, d, s, (lo, hi), L, padding string or None), or None if infeasible."""
    max_k, max_d, max_s, max_l, pad_ok = caps_key
    best = None
    for k in _K[kernel]:
        for d in _D[dilation]:
            if d > 1 and k < 2:
                continue
            E = d * (k - 1) + 1
            for s in _strides(stride, E):
                pads = {"0": [((0, 0), None)], "valid": [((0, 0), "valid")],
                        "sym": [((p, p), None) for p in range(1, E)], ">=extent": [((E, E), None), ((E + 1, E + 1), None)],
                        "pair": [((0, 1), None), ((1, 0), None), ((1, 2), None), ((2, 1), None)],
                        "same": [(((E - 1) // 2, E - 1 - (E - 1) // 2), "same")] if s == 1 else []}[padding]
                for (lo, hi), string in pads:
                    if (lo or hi) and not pad_ok and string != "same":
                        continue
                    for L in _inputs(inp, E):
                        if L < 2 and not (kernel == "1" and inp == "=extent"):
                            continue              # L = 1 only where the levels force it
                        if L + lo + hi < E or not _mode_ok(mode, lo, hi, L):
                            continue
                        if not (_le(k, max_k) and _le(d, max_d) and _le(s, max_s) and _le(L, max_l)):
                            continue
                        key = (L < 2, k, d, L, s, lo + hi)
                        if best is None or key < best[0]:
                            best = (key, (k, d, s, (lo, hi), L, string))
    return None if best is None else best[1]


@lru_cache(maxsize=None)
def transpose_axis(kernel, stride, dilation, padding, outpad, inp, gradient, caps_key):
    """The primary axis of a transposed-conv (or gradient) row: (k, d, s, (p, p), L, op), or None."""
    max_k, max_d, max_s, max_l, pad_ok = caps_key
    best = None
    for k in _K[kernel]:
        for d in _D[dilation]:
            if d > 1 and k < 2:
                continue
            E = d * (k - 1) + 1
            for s in _strides(stride, E):
                ops = {"0": (0,), "<stride": tuple(range(1, s)),
                       "<dilation": tuple(range(s, d)) if not gradient else ()}[outpad]
                pads = {"0": (0,), "sym": tuple(range(1, E)), ">=extent": (E, E + 1)}[padding]
                for op in ops:
                    for p in pads:
                        if p and not pad_ok:
                            continue
                        for L in _inputs(inp, E):
                            out = (L - 1) * s - 2 * p + E + op
                            if L < 2 and not (kernel == "1" and inp == "=extent"):
                                continue          # L = 1 only where the levels force it
                            if out < 2 or not (_le(k, max_k) and _le(d, max_d) and _le(s, max_s)
                                               and _le(max(L, out), max_l)):
                                continue
                            key = (L < 2, k, d, L, s, p, op)
                            if best is None or key < best[0]:
                                best = (key, (k, d, s, (p, p), L, op))
    return None if best is None else best[1]


@lru_cache(maxsize=None)
def channels(groups, cin, cout, max_ch, groups_ok):
    """(C_in, C_out, G) realising the channel levels within ``max_ch`` channels per group, or None."""
    for c in _C[cin]:
        for o in _O[cout]:
            if groups == "1":
                gs = (1,)
            elif not groups_ok:
                gs = ()
            elif groups == "grouped":
                gs = tuple(g for g in (2, 3, 4) if c % g == 0 and o % g == 0 and c // g >= 2)
            elif groups == "depthwise":
                gs = (c,) if c >= 2 and o == c else ()
            else:
                gs = (c,) if c >= 2 and o % c == 0 and o // c >= 2 else ()
            for g in gs:
                if _le(c // g, max_ch) and _le(o // g, max_ch):
                    return c, o, g
    return None


_SK = {"odd": (3, 1, 5), "even": (2, 4)}
_REL = {"shorter": lambda k: range(k - 1, 0, -1), "equal": lambda k: (k,), "longer": lambda k: (k + 1, k + 2)}


@lru_cache(maxsize=None)
def signal_shapes(mode, rel0, rel1, parity, max_k, max_l):
    """(a shape, k shape) realising the signal levels, or None."""
    p0, p1 = {"odd": ("odd", "odd"), "even": ("even", "even"), "mixed": ("odd", "even")}[parity]
    for k0 in _SK[p0]:
        for k1 in _SK[p1]:
            if not (_le(max(k0, k1), max_k)):
                continue
            for a0 in _REL[rel0](k0):
                for a1 in _REL[rel1](k1):
                    if not _le(max(a0, a1), max_l):
                        continue
                    try:
                        signal_out_shape((a0, a1), (k0, k1), mode)
                    except ValueError:
                        continue
                    return (a0, a1), (k0, k1)
    return None


def caps_key(caps) -> tuple:
    return (caps.max_kernel, caps.max_dilation, caps.max_stride, caps.max_size, caps.padding)


# -- the whole problem -----------------------------------------------------------------------------

def problem_for(kind: str, lv: dict, caps):
    """(problem, call keywords) realising ``lv`` (a full row), or None when no problem within ``caps`` does.
    Call keywords: what the op takes besides the arrays beyond ``problem.kwargs()`` -- a padding string
    (``padding='same'``/``'valid'``) and ``padding_mode``."""
    dtype, regime = lv["dtype"], lv["regime"]
    base = "int" if regime == "special" else regime
    if kind == "signal":
        sh = signal_shapes(lv["mode"], lv["rel0"], lv["rel1"], lv["parity"], caps.max_kernel, caps.max_size)
        if sh is None:
            return None
        return SignalProblem(a=sh[0], k=sh[1], mode=lv["mode"], dtype=dtype, regime=base), {"mode": lv["mode"]}
    rank = int(lv["rank"])
    if lv["kernel"] == "asym" and rank < 2:
        return None
    ck = caps_key(caps)
    if kind == "conv":
        ax = conv_axis(lv["kernel"], lv["stride"], lv["dilation"], lv["padding"], lv["mode"], lv["input"], ck)
    else:
        ax = transpose_axis(lv["kernel"], lv["stride"], lv["dilation"], lv["padding"], lv["outpad"], lv["input"],
                            kind != "transpose", ck)
    ch = channels(lv["groups"], lv["cin"], lv["cout"], caps.max_channels, caps.groups)
    n = _N[lv["batch"]]
    if ax is None or ch is None or not _le(n, caps.max_batch) or not _le(SECONDARY, caps.max_size if rank > 1 else None):
        return None
    k, d, s, pads, L, extra = ax
    c, o, g = ch
    ks = [1] * (rank - 1) + [k]
    if lv["kernel"] == "asym":
        ks[-2] = 2
    sec_pads = [(0, 0)] * (rank - 1)
    if kind == "conv" and extra == "same":
        sec_pads = [((kk - 1) // 2, kk - 1 - (kk - 1) // 2) for kk in ks[:-1]]
    fields = dict(n=n, c=c, o=o, spatial=(SECONDARY,) * (rank - 1) + (L,), kernel=tuple(ks),
                  stride=(1,) * (rank - 1) + (s,), pads=tuple(sec_pads) + (pads,), dilation=(1,) * (rank - 1) + (d,),
                  g=g, bias=lv.get("bias") == "yes", dtype=dtype, regime=base)
    if kind == "conv":
        p = Problem(**fields)
        kw = p.kwargs()
        if extra is not None:
            kw["padding"] = extra
        if lv["mode"] != "zeros":
            kw["padding_mode"] = lv["mode"]
        return p, kw
    p = TransposeProblem(**fields, out_pad=(0,) * (rank - 1) + (extra,))
    return p, (p.kwargs() if kind == "transpose" else p.grad_kwargs())


@lru_cache(maxsize=None)
def form_matters(shape, lay: str) -> bool:
    """Whether memory layout ``lay`` changes an array of ``shape`` from a plain C-contiguous one: the strides
    differ (F, step, T, neg: the result is not C-contiguous) or the data start inside a larger buffer (big).
    C always counts (the plain form)."""
    if lay == "C":
        return True
    if shape is None:
        return False
    a = form_layout(np.zeros(shape, dtype=np.float32), lay)
    if lay == "big":
        return True
    return not a.flags.c_contiguous


def seed_of(levels: dict) -> int:
    """A deterministic 32-bit seed from the row's levels (the same on every machine)."""
    text = ",".join(f"{k}={levels[k]}" for k in sorted(levels))
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:4], "big")


def data_for(kind: str, p, regime: str, seed: int) -> dict:
    """The arrays of the case: seeded per the regime (int/dya/flt exact or seeded, :func:`convspec.model.case.fill`);
    ``special`` puts NaN, +Inf and -Inf into x and w and a zero weight among integer data; the weight gradient
    also gets ``xf``, its forward input."""
    arrays = fill(p, seed)
    rng = np.random.default_rng([seed, 0x5EC])
    if regime == "special":
        x, w = arrays["x"], arrays["w"]
        x.flat[int(rng.integers(x.size))] = np.nan
        w.flat[int(rng.integers(w.size))] = np.inf if w.size > 1 else -np.inf
        if w.size > 1:
            i = int(rng.integers(w.size))
            if np.isfinite(w.flat[i]):
                w.flat[i] = 0
        if x.size > 1:
            i = int(rng.integers(x.size))
            if np.isfinite(x.flat[i]):
                x.flat[i] = -np.inf
    if kind == "weight":
        shape = p.y_shape
        vals = (rng.integers(-int_range(p.dtype), int_range(p.dtype) + 1, size=shape).astype(np.float64)
                if p.regime == "int" else rng.standard_normal(shape))
        arrays["xf"] = cast(vals, p.dtype)
    return arrays


def unit_pattern(kind: str, name: str, lv: dict, caps):
    """The shape of array ``name`` with every extent replaced by 1 (size 1) or 2 (larger), from the levels
    alone (the realiser's guarantee: the primary input extent is 1 only for kernel 1 with L = E; a transposed
    output extent is never 1; every other spatial axis has size 2).  None where the array is absent (no bias)
    or the channel levels do not realise."""
    def two(v):
        return 1 if v == 1 else 2
    if kind == "signal":
        sh = signal_shapes(lv["mode"], lv["rel0"], lv["rel1"], lv["parity"], caps.max_kernel, caps.max_size)
        return None if sh is None else tuple(two(v) for v in sh[0 if name == "a" else 1])
    ch = channels(lv["groups"], lv["cin"], lv["cout"], caps.max_channels, caps.groups)
    if ch is None:
        return None
    c, o, g = ch
    if name == "b":
        return (two(o),) if lv.get("bias") == "yes" else None
    n = _N[lv.get("batch", "1")]         # only the factors the array's shape depends on are read
    rank = int(lv["rank"])
    sec = (SECONDARY,) * (rank - 1)
    lp = 1 if (lv.get("kernel") == "1" and lv.get("input") == "=extent") else 2
    ks = [1] * (rank - 1) + [1 if lv.get("kernel") == "1" else 2]
    if lv.get("kernel") == "asym" and rank > 1:
        ks[-2] = 2
    if kind == "conv":
        shapes = {"x": (n, c) + sec + (lp,), "w": (o, c // g, *ks)}
    elif kind == "transpose":
        shapes = {"x": (n, c) + sec + (lp,), "w": (c, o // g, *ks)}
    elif kind == "input":
        shapes = {"w": (c, o // g, *ks), "grad_out": (n, c) + sec + (lp,)}
    else:
        shapes = {"x": (n, o) + sec + (2,), "grad_out": (n, c) + sec + (lp,)}
    return tuple(two(v) for v in shapes[name])
