"""Feature models: the categorical factors of each op kind's contract, their levels, and what each level means.

A feature model is data: for each op kind (:func:`convspec.model.ops.op_kind`: conv, transpose, input, weight, signal) an
ordered tuple of :class:`Factor`.  Each level is a *class* of concrete values, defined on the problem as realised
(:mod:`convspec.drawing.coverage.realise` builds the smallest problem in the class; the self-tests check membership with
their own predicates).  The spatial levels describe the **primary axis** -- the last spatial axis (W); every
other spatial axis has size 2, kernel 1, stride 1, dilation 1 and no padding (kernel 2 on the axis before W for
an asymmetric kernel), so that conv2d/conv3d cost little more than conv1d while every axis has a distinct size.

Conv (conv1d/2d/3d; x (N, C, L...), w (O, C/G, k...)), with E = d (k - 1) + 1 the dilated kernel extent:

* ``rank``: 1, 2, 3 (only when rows are asked for the whole kind; a named op fixes it);
* ``dtype``: the declared dtypes;  ``regime``: ``int`` (small integers, exact), ``dya`` (dyadic, exact in any
  order, :mod:`convspec.model.case`), ``flt`` (seeded floats), ``special`` (NaN/+Inf/-Inf and a zero weight among
  integers, judged by :mod:`convspec.truth.special`; forward convs only);
* ``batch``: N = 1, N > 1, N >= 16;  ``cin`` / ``cout``: C (resp. O) = 1, > 1 (not 8 or 16), 8, 16 (the channel
  blocks of vectorised kernels);
* ``groups``: 1; grouped (G >= 2, C/G >= 2, G < C); depthwise (G = C >= 2, O = C); depthwise with a
  multiplier (G = C >= 2, O = m C, m >= 2);
* ``kernel`` (k on the primary axis): 1, 3, 5 or 7, even, asymmetric (another axis has a kernel
  extent > 1 that differs: 2 x 3; rank >= 2), >= 8;
* ``stride``: 1, 2, > kernel (s > E and s >= 3: inputs skipped between windows);
* ``dilation``: 1, >= 2 (only with k >= 2: at least two taps);
* ``padding``: 0; sym (0 < p < E, both sides); pair (before != after: ``padding_pairs``); >=extent (p >= E
  both sides: whole windows in the padding); same / valid (the strings: ``padding_strings``; 'same' at stride 1);
* ``mode``: the declared ``padding_modes`` (zeros, reflect, replicate, circular); a mode other than zeros only on
  a padded axis (reflect: pad < L, circular: pad <= L);
* ``input``: the primary extent L < E, L = E, L > E;
* ``bias``: no / yes;  ``layout``: the declared layout (one level);
* ``mem_<array>``: the memory form of each input array, a :data:`convspec.model.forms.LAYOUTS` entry -- C (contiguous),
  F (Fortran), step (stepped view), T (transposed; for N-D activations the channels-last strides), neg (negative
  strides), big (offset in a larger buffer) -- each only where it changes the strides (a layout that leaves the
  array C-contiguous, e.g. F on an array with one non-unit axis, does not count); ``readonly``: no / yes.

Transposed convs (``transpose``): as conv without groups' multiplier distinction beyond the same four levels,
padding 0 / sym / >=extent (no pairs, strings or modes), and ``outpad``: 0, < stride (0 < op < s), < dilation
only (s <= op < d).  The gradients (``input``, ``weight``): the transposed problem of the conv they
differentiate, outpad 0 or < stride (the forward input's rows no window reaches), no bias; the weight gradient
has no dyadic regime (its forward input is drawn int or flt).  Signal ops (convolve2d/correlate2d): dtype (real,
complex, integer as declared), regime, ``mode`` full/same/valid, ``rel0``/``rel1`` (a shorter than, equal to or
longer than k on each axis), ``parity`` (kernel extents both odd, both even, mixed), the memory forms of a and k.

Not expressible today: "size-1 axes with arbitrary strides" (no such layout in :mod:`convspec.model.forms`).
"""

from __future__ import annotations

from dataclasses import dataclass

from convspec.model.forms import LAYOUTS
from convspec.model.ops import LABELS, RANKS, op_kind, op_rank

KINDS = ("conv", "transpose", "input", "weight", "signal")


@dataclass(frozen=True)
class Factor:
    """A categorical factor: its name and its levels (strings), in order."""

    name: str
    levels: tuple


CHANNELS = ("1", ">1", "8", "16")
GROUPS = ("1", "grouped", "depthwise", "depthwise-mult")
KERNELS = ("1", "3", "5|7", "even", "asym", ">=8")
STRIDES = ("1", "2", ">kernel")
DILATIONS = ("1", ">=2")
INPUTS = ("<extent", "=extent", ">extent")
PADDINGS = {"conv": ("0", "sym", "pair", ">=extent", "same", "valid"),
            "transpose": ("0", "sym", ">=extent")}
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
OUTPADS = {"transpose": ("0", "<stride", "<dilation"), "input": ("0", "<stride"), "weight": ("0", "<stride")}
REGIMES = {"conv": ("int", "dya", "flt", "special"), "transpose": ("int", "dya", "flt"),
           "input": ("int", "dya", "flt"), "weight": ("int", "flt"), "signal": ("int", "dya", "flt")}
SIGNAL_REL = ("shorter", "equal", "longer")
PARITIES = ("odd", "even", "mixed")
SIGNAL_MODES = ("full", "same", "valid")
FLOATS = ("f16", "bf16", "f32", "f64")


def kind_of(op: str) -> tuple[str, int | None]:
    """(kind, rank) for a contract op name (rank None for the signal ops), or (kind, None) for a kind name
    (then the rank is a factor)."""
    if op in KINDS:
        return op, None
    kind = op_kind(op)
    return kind, (None if kind == "signal" else op_rank(op))


def array_names(kind: str) -> tuple:
    """The input arrays of a kind whose memory form is a factor (the op's argument names, :data:`convspec.model.ops.LABELS`)."""
    return {"conv": ("x", "w", "b"), "transpose": ("x", "w", "b"), "input": LABELS["conv2d_input"],
            "weight": LABELS["conv2d_weight"], "signal": ("a", "k")}[kind]


def model(kind: str, rank: int | None = None) -> tuple:
    """The whole-contract feature model of ``kind`` (every level the contract defines), rank fixed if given."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    fs = []
    if kind == "signal":
        fs += [Factor("dtype", FLOATS + ("c128", "i8", "i16", "i32", "i64")), Factor("regime", REGIMES[kind]),
               Factor("mode", SIGNAL_MODES), Factor("rel0", SIGNAL_REL), Factor("rel1", SIGNAL_REL),
               Factor("parity", PARITIES)]
    else:
        fs.append(Factor("rank", tuple(str(r) for r in RANKS) if rank is None else (str(rank),)))
        fs += [Factor("dtype", FLOATS), Factor("regime", REGIMES[kind]), Factor("batch", ("1", ">1", ">=16")),
               Factor("cin", CHANNELS), Factor("cout", CHANNELS), Factor("groups", GROUPS),
               Factor("kernel", KERNELS), Factor("stride", STRIDES), Factor("dilation", DILATIONS),
               Factor("padding", PADDINGS["conv" if kind == "conv" else "transpose"])]
        if kind == "conv":
            fs.append(Factor("mode", PADDING_MODES))
        else:
            fs.append(Factor("outpad", OUTPADS[kind]))
        fs.append(Factor("input", INPUTS))
        if kind in ("conv", "transpose"):
            fs.append(Factor("bias", ("no", "yes")))
        fs.append(Factor("layout", ("NCHW", "NHWC")))
    for name in array_names(kind):
        fs.append(Factor("mem_" + name, LAYOUTS))
    fs.append(Factor("readonly", ("no", "yes")))
    return tuple(fs)


def _dtypes(caps, kind: str) -> tuple:
    f = getattr(caps, "dtypes_for", None)
    return tuple(f(kind)) if callable(f) else tuple(caps.dtypes)


def restricted(kind: str, rank: int | None, caps) -> tuple:
    """The model with every level outside ``caps`` removed (dtypes as declared; the declared layout only;
    padding strings, pairs and modes only where declared; no padding, groups or bias where not supported).
    Bounds (``max_*``) act in the realisation: a level no problem within them realises drops out there."""
    out = []
    for f in model(kind, rank):
        lv = f.levels
        if f.name == "dtype":
            lv = tuple(d for d in _dtypes(caps, kind) if d in lv)
        elif f.name == "layout":
            lv = (caps.layout,) if caps.layout in lv else lv[:1]
        elif f.name == "padding":
            lv = tuple(v for v in lv if (v == "0" or caps.padding or v == "valid")
                       and (v != "pair" or caps.padding_pairs)
                       and (v not in ("same", "valid") or caps.padding_strings))
        elif f.name == "mode" and kind == "conv":
            lv = tuple(m for m in lv if m == "zeros" or m in tuple(caps.padding_modes))
        elif f.name == "groups" and not caps.groups:
            lv = ("1",)
        elif f.name == "outpad" and caps.output_padding == "stride":
            lv = tuple(v for v in lv if v != "<dilation")
        elif f.name in ("bias", "mem_b") and not caps.bias:
            lv = lv[:1]
        out.append(Factor(f.name, lv))
    return tuple(out)
