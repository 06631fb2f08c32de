"""Combinatorial coverage, the same every run (issue 18): feature models, strength-3 covering arrays and the
smallest problems that realise their rows.

Public API (the engine's)::

    rows(op, caps) -> list[Row]            # Row(levels, case, kwargs): one realised case per covering-array row
    figure(op, caps) -> (covered, possible) # 3-way combinations covered / possible under the constraints
    index_limit_cases(op, caps) -> list[Case]

``op`` is a contract op name (conv2d, conv_transpose1d, conv3d_weight, correlate2d, ...) or an op kind (conv,
transpose, input, weight, signal: then the rank is a factor too).  ``caps`` is a
:class:`convspec.backends.base.Capabilities`: only levels inside it appear (dtypes from ``caps.dtypes_for(kind)`` when
that method exists, else ``caps.dtypes``; the declared layout only; padding strings, pairs and modes only where
declared; every ``max_*`` bound respected by the realised problem).

A :class:`Row` carries ``levels`` (factor -> level, :mod:`convspec.drawing.coverage.features`), ``case`` (a
:class:`convspec.model.case.Case` whose ``form`` is the memory form, a :class:`convspec.model.forms.CallForm` or None for the
plain one, and whose arrays realise the data regime) and ``kwargs``: the op's keyword arguments for the row
(``stride``, ``padding``, ``dilation``, ``groups``; ``output_padding`` for the transposed convs; the padding
string and ``padding_mode`` where the row has one -- the problem alone does not say ``padding='same'``).
Results are cached per (op, caps).
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

from convspec.drawing.coverage import array as _array
from convspec.drawing.coverage import features, realise
from convspec.drawing.coverage.features import Factor, kind_of, model, restricted  # noqa: F401  (public)
from convspec.drawing.coverage.limits import index_limit_cases
from convspec.model.case import Case
from convspec.model.forms import CallForm

__all__ = ["Row", "rows", "figure", "index_limit_cases", "model", "restricted", "Factor", "kind_of", "constraints",
           "level_rows"]



@dataclass
class Row:
    """One covering-array row: its levels, the realised case (``case.form`` = the memory form) and the op's
    keyword arguments."""

    levels: dict
    case: Case
    kwargs: dict = field(default_factory=dict)


def _data_ok(r: dict) -> bool:
    dt, reg = r["dtype"], r["regime"]
    if reg in ("dya", "special"):
        return dt in features.FLOATS
    if reg == "flt":
        return dt in features.FLOATS or dt == "c128"
    return True


def constraints(kind: str, levels: dict, caps) -> list:
    """The row constraints of ``kind`` under ``caps`` (module :mod:`convspec.drawing.coverage.array`): one per coupled
    group, each exactly "the group realises" (:mod:`convspec.drawing.coverage.realise`)."""
    C = _array.Constraint
    ck = realise.caps_key(caps)
    out = [C(("dtype", "regime"), _data_ok, "data")]
    if kind == "signal":
        out.append(C(("mode", "rel0", "rel1", "parity"), lambda r: realise.signal_shapes(
            r["mode"], r["rel0"], r["rel1"], r["parity"], caps.max_kernel, caps.max_size) is not None, "spatial"))
    else:
        if kind == "conv":
            sp = ("rank", "kernel", "stride", "dilation", "padding", "mode", "input")
            out.append(C(sp, lambda r: (r["kernel"] != "asym" or r["rank"] != "1") and realise.conv_axis(
                r["kernel"], r["stride"], r["dilation"], r["padding"], r["mode"], r["input"], ck) is not None,
                "spatial"))
        else:
            sp = ("rank", "kernel", "stride", "dilation", "padding", "outpad", "input")
            out.append(C(sp, lambda r: (r["kernel"] != "asym" or r["rank"] != "1") and realise.transpose_axis(
                r["kernel"], r["stride"], r["dilation"], r["padding"], r["outpad"], r["input"], kind != "transpose",
                ck) is not None, "spatial"))
        out.append(C(("groups", "cin", "cout"), lambda r: realise.channels(
            r["groups"], r["cin"], r["cout"], caps.max_channels, caps.groups) is not None, "channels"))
        out.append(C(("batch",), lambda r: realise._le(realise._N[r["batch"]], caps.max_batch), "batch"))
    for name in features.array_names(kind):
        key = "mem_" + name
        need = _MEM_KEYS[kind].get(name, ()) + (key,)
        out.append(C(need, lambda r, name=name, key=key: r[key] == "C" or realise.form_matters(
            realise.unit_pattern(kind, name, r, caps), r[key]), key))
    return out


#: the factors that decide which axes of each array have size 1 (:func:`convspec.drawing.coverage.realise.unit_pattern`)
_CH = ("groups", "cin", "cout")
_MEM_KEYS = {
    "conv": {"x": ("batch", "rank", "kernel", "input") + _CH, "w": ("rank", "kernel") + _CH, "b": ("bias",) + _CH},
    "transpose": {"x": ("batch", "rank", "kernel", "input") + _CH, "w": ("rank", "kernel") + _CH,
                  "b": ("bias",) + _CH},
    "input": {"w": ("rank", "kernel") + _CH, "grad_out": ("batch", "rank", "kernel", "input") + _CH},
    "weight": {"x": ("batch", "rank") + _CH, "grad_out": ("batch", "rank", "kernel", "input") + _CH},
    "signal": {"a": ("mode", "rel0", "rel1", "parity"), "k": ("mode", "rel0", "rel1", "parity")}}


def _levels(kind, rank, caps) -> dict:
    """Factor -> levels under ``caps``, without levels that no valid row can hold."""
    lv = {f.name: tuple(f.levels) for f in restricted(kind, rank, caps)}
    cons = constraints(kind, lv, caps)
    order = _array._search_order(list(lv), cons)
    tables = _array.Tables(cons, lv)
    for k in list(lv):
        if len(lv[k]) > 1:
            lv[k] = tuple(v for v in lv[k] if tables.completable({k: v}, lv, order))
    return lv


@lru_cache(maxsize=1)
def _model_digest() -> str:
    """The digest of this package's source (read once per process): a changed model is a new cache key."""
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for name in sorted(os.listdir(here)):
        if name.endswith(".py"):
            with open(os.path.join(here, name), "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def _cache_file(op: str, caps) -> str | None:
    """Where the array of (op, caps) is kept between processes: ``$CONVSPEC_CACHE`` or ~/.cache/convspec, keyed
    by the op, the capabilities, the generator's seed and the source of this package (a changed model is a new
    key); None when no cache directory can be made.  Generation takes seconds per (op, caps); every gate run
    (and every xdist worker) would otherwise pay it again."""
    h = hashlib.sha256(f"{op}|{caps!r}|{_array.SEED}|{_array.STRENGTH}|{_model_digest()}".encode())
    root = os.environ.get("CONVSPEC_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "convspec")
    folder = os.path.join(root, "coverage")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return os.path.join(folder, h.hexdigest()[:40] + ".json")


def _load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError, TypeError):
        return None


def _store(path, doc) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.replace(tmp, path)                  # atomic: concurrent workers never read half a file
    except OSError:
        pass


@lru_cache(maxsize=256)
def _generate(op: str, caps):
    """(kind, coverage figure, level rows), from the disk cache (:func:`_cache_file`) when it holds them."""
    kind, rank = kind_of(op)
    path = _cache_file(op, caps)
    doc = _load(path) if path else None
    if doc and "rows" in doc and "figure" in doc:
        return kind, tuple(doc["figure"]), [dict(r) for r in doc["rows"]]
    lv = _levels(kind, rank, caps)
    cons = constraints(kind, lv, caps)
    lrows = _array.generate(lv, cons)
    fig = tuple(_array.figure(lv, cons, lrows))
    if path:
        _store(path, {"op": op, "rows": lrows, "figure": list(fig)})
    return kind, fig, lrows


def prepare(ops, caps, workers: int = 2) -> None:
    """Generate the arrays of ``ops`` within ``caps`` ahead, ``workers`` at a time: the generator is a
    subprocess (coverwise's binary), so one op's generation overlaps another's Python work.  The uncached
    header of a whole-family gate: 22 s serially, measured in docs/measured.md."""
    ops = list(ops)
    if len(ops) > 1:            # an op already in the disk cache returns at once from _generate
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda op: _generate(op, caps), ops))


def level_rows(op: str, caps) -> list[dict]:
    """The covering array of ``op`` under ``caps`` as level dicts (before realisation)."""
    return [dict(r) for r in _generate(op, caps)[2]]


def _row(kind: str, levels: dict, caps) -> Row:
    p, kw = realise.problem_for(kind, levels, caps)
    seed = realise.seed_of(levels)
    arrays = realise.data_for(kind, p, levels["regime"], seed)
    lays = tuple((k[4:], v) for k, v in levels.items() if k.startswith("mem_") and v != "C")
    form = CallForm(layouts=lays, readonly=levels["readonly"] == "yes")
    return Row(dict(levels), Case(p, arrays, None if levels["regime"] == "special" else seed,
                                  None if form.plain else form), kw)


@lru_cache(maxsize=256)
def _rows(op: str, caps) -> tuple:
    kind, _, lrows = _generate(op, caps)
    return tuple(_row(kind, r, caps) for r in lrows)


def rows(op: str, caps) -> list[Row]:
    """The realised strength-3 covering array of ``op`` within ``caps`` (cached; fresh Row objects, shared
    arrays: copy before writing)."""
    return [Row(dict(r.levels), Case(r.case.problem, dict(r.case.arrays), r.case.seed, r.case.form), dict(r.kwargs))
            for r in _rows(op, caps)]


@lru_cache(maxsize=256)
def figure(op: str, caps) -> tuple[int, int]:
    """(3-way combinations covered, 3-way combinations possible) for ``op`` within ``caps``."""
    return _generate(op, caps)[1]
