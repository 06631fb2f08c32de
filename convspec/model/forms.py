"""Call forms: how the arguments of a contract call are passed, with the values held fixed.

The contract accepts ``stride``, ``padding`` and ``dilation`` as an int or a pair, and arrays in any
memory layout numpy can express.  A :class:`CallForm` names one such way of passing a call:

* **argument forms** (each of stride, padding, dilation): ``tuple`` (a pair of ints, the plain form),
  ``int`` (a plain int; used only when both entries are equal, else the pair), ``np`` (numpy integer
  scalars: ``np.int64(v)`` when both are equal, else a pair of them), ``list`` (a two-element list);
* **layouts** (each input array, by its contract name x, w, b or a, k):

  ======  =====================================================================================
  C       a C-contiguous array owning its memory (the plain form)
  F       Fortran order (column-major)
  step    a view taken with step 2 (and an offset of one) along the last two axes of a larger buffer
  T       a transposed view: stored in another axis order (NHWC for 4-D, the transpose for 2-D,
          one column of a two-column buffer for 1-D) and viewed in the contract's order
  neg     negative strides along every axis (a reversed view of a reversed copy)
  big     C-contiguous, but a view at an offset inside a larger base buffer
  ======  =====================================================================================

* ``readonly``: every input array is passed with ``flags.writeable == False``.

:func:`apply` builds the arguments of one call in a form: every array is a fresh object with values
identical to the original, bit for bit (the gaps of the larger buffers hold 99); the original
arrays -- on which the references compute -- are never handed to the implementation.

``str(form)`` is compact and :meth:`CallForm.parse` reads it back (repro commands carry it as
``--form``): ``plain``, or comma-separated tokens such as ``s=int,p=list,x=F,w=neg,ro``.
:func:`call_forms` is the engine's strategy (one draw from a catalogue covering every form, the plain
form half the time); :func:`any_forms` draws every combination.  Both shrink towards the plain form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from convspec.model.ops import LABELS as ARRAY_NAMES  # each op's array arguments, in order
from convspec.model.ops import op_rank

ARG_FORMS = ("tuple", "int", "np", "list")          # the first one is the plain form
LAYOUTS = ("C", "F", "step", "T", "neg", "big")     # the first one is the plain form
ARG_KEYS = {"s": "stride", "p": "padding", "d": "dilation"}

GAP = 99          # what fills the parts of a larger buffer that lie outside the view


@dataclass(frozen=True)
class CallForm:
    """One way of passing a call's arguments; the default is the plain form."""

    stride: str = "tuple"
    padding: str = "tuple"
    dilation: str = "tuple"
    layouts: tuple = ()            # ((array name, layout), ...) for arrays not passed C-contiguous
    readonly: bool = False

    def __post_init__(self):
        for key in ("stride", "padding", "dilation"):
            if getattr(self, key) not in ARG_FORMS:
                raise ValueError(f"{key} form must be one of {', '.join(ARG_FORMS)}, not {getattr(self, key)!r}")
        norm = []
        for name, lay in self.layouts:
            if lay not in LAYOUTS:
                raise ValueError(f"layout of {name} must be one of {', '.join(LAYOUTS)}, not {lay!r}")
            if lay != "C":
                norm.append((name, lay))
        object.__setattr__(self, "layouts", tuple(sorted(dict(norm).items())))

    def layout(self, name: str) -> str:
        return dict(self.layouts).get(name, "C")

    @property
    def plain(self) -> bool:
        return self == PLAIN

    def __str__(self) -> str:
        toks = [f"{k}={getattr(self, v)}" for k, v in ARG_KEYS.items() if getattr(self, v) != "tuple"]
        toks += [f"{n}={lay}" for n, lay in self.layouts]
        if self.readonly:
            toks.append("ro")
        return ",".join(toks) or "plain"

    @classmethod
    def parse(cls, text: str) -> "CallForm":
        """Inverse of ``str``: ``CallForm.parse(str(f)) == f``."""
        text = text.strip()
        if text in ("", "plain"):
            return PLAIN
        kw, layouts, ro = {}, [], False
        for tok in text.split(","):
            tok = tok.strip()
            if tok == "ro":
                ro = True
                continue
            key, sep, val = tok.partition("=")
            if not sep:
                raise ValueError(f"cannot parse call form token {tok!r} in {text!r}; expected e.g. "
                                 "'s=int,p=list,x=F,w=neg,ro'")
            if key in ARG_KEYS:
                kw[ARG_KEYS[key]] = val
            elif key in ("x", "w", "b", "a", "k"):
                layouts.append((key, val))
            else:
                raise ValueError(f"unknown call form key {key!r} in {text!r}; keys: s, p, d, x, w, b, a, k, ro")
        return cls(layouts=tuple(layouts), readonly=ro, **kw)


PLAIN = CallForm()


def any_forms(names=("x", "w", "b", "a", "k")):
    """Every call form, each part drawn independently and shrinking towards its plain value (tuple,
    C order, writeable)."""
    arg = st.sampled_from(ARG_FORMS)
    lays = st.tuples(*[st.sampled_from(LAYOUTS) for _ in names]).map(lambda ls: tuple(zip(names, ls)))
    return st.builds(CallForm, stride=arg, padding=arg, dilation=arg, layouts=lays, readonly=st.booleans())


def _catalogue() -> tuple:
    """The forms the engine draws from: each argument form for all three arguments, each layout for all
    arrays and for one array alone, read-only, and mixtures in which every part varies."""
    names = ("x", "w", "b", "a", "k")
    out = [CallForm(stride=f, padding=f, dilation=f) for f in ARG_FORMS[1:]]
    out += [CallForm(layouts=tuple((n, lay) for n in names)) for lay in LAYOUTS[1:]]
    out += [CallForm(layouts=((n, lay),)) for lay in LAYOUTS[1:] for n in ("x", "a", "w", "k")]
    out += [CallForm(readonly=True), CallForm(layouts=(("x", "F"), ("a", "F")), readonly=True)]
    out += [CallForm(stride=ARG_FORMS[i % 4], padding=ARG_FORMS[(i + 1) % 4], dilation=ARG_FORMS[(i + 2) % 4],
                     layouts=tuple((n, LAYOUTS[(i + 2 * j) % len(LAYOUTS)]) for j, n in enumerate(names)),
                     readonly=bool(i % 2)) for i in range(12)]
    return tuple(dict.fromkeys(f for f in out if f != PLAIN))


CATALOGUE = _catalogue()


def call_forms():
    """The form the engine draws for every example (one draw, cheap): the plain form half the time,
    else one of :data:`CATALOGUE`; shrinks towards the plain form."""
    return st.sampled_from((PLAIN,) * len(CATALOGUE) + CATALOGUE)


# -- building the arguments ------------------------------------------------------------------------

def arg_in_form(value, form: str, rank: int = 2):
    """``value`` (an int, or a tuple of ints or of (before, after) pairs: one entry per spatial axis)
    passed in argument form ``form``: ``int`` -- a plain int when every entry is the same int; ``np`` --
    numpy integer scalars (one when all equal); ``list`` -- lists instead of tuples; ``tuple`` -- the
    value as a tuple.  Anything else (a string, a bool) is left alone."""
    if isinstance(value, (bool, str)) or not isinstance(value, (int, np.integer, tuple, list)):
        return value
    if isinstance(value, (int, np.integer)):
        value = (int(value),) * rank              # a bare int: one entry per spatial axis (the plain form)
    try:
        items = [tuple(int(t) for t in v) if isinstance(v, (tuple, list)) else int(v) for v in value]
    except (TypeError, ValueError):
        return value
    flat = all(isinstance(v, int) for v in items)
    if form == "int":
        return items[0] if flat and len(set(items)) == 1 else tuple(items)
    if form == "np":
        if flat:
            return np.int64(items[0]) if len(set(items)) == 1 else tuple(np.int64(v) for v in items)
        return tuple(tuple(np.int64(t) for t in v) if isinstance(v, tuple) else np.int64(v) for v in items)
    if form == "list":
        return [list(v) if isinstance(v, tuple) else v for v in items]
    return tuple(items)


def _fill_gap(buf):
    buf[...] = np.asarray(GAP).astype(buf.dtype) if buf.dtype.kind != "b" else True


def layout(a: np.ndarray, kind: str, readonly: bool = False) -> np.ndarray:
    """A new array equal to ``a`` (same shape, dtype and bits) in layout ``kind`` (see the module doc)."""
    a = np.asarray(a)
    nd = a.ndim
    if kind == "C" or nd == 0:
        out = np.array(a, order="C", copy=True)
    elif kind == "F":
        out = np.array(a, order="F", copy=True)
    elif kind == "step":                  # steps of 2 along the last two axes (x[:, :, ::2, ::2]-like)
        lead = max(nd - 2, 0)
        buf = np.empty(a.shape[:lead] + tuple(2 * s + 1 for s in a.shape[lead:]), dtype=a.dtype)
        _fill_gap(buf)
        out = buf[(slice(None),) * lead + tuple(slice(1, 1 + 2 * s, 2) for s in a.shape[lead:])]
        out[...] = a
    elif kind == "T":
        if nd == 1:
            buf = np.empty((a.shape[0], 2), dtype=a.dtype)
            _fill_gap(buf)
            out = buf[:, 0]
            out[...] = a
        else:
            order = (0,) + tuple(range(2, nd)) + (1,) if nd >= 3 else (1, 0)   # NCHW -> stored NHWC
            inverse = tuple(int(i) for i in np.argsort(order))
            out = np.ascontiguousarray(a.transpose(order)).transpose(inverse)
    elif kind == "neg":
        rev = (slice(None, None, -1),) * nd
        out = np.ascontiguousarray(a[rev])[rev]
    elif kind == "big":
        pad = 7
        buf = np.empty(a.size + 2 * pad, dtype=a.dtype)
        _fill_gap(buf)
        out = buf[pad:pad + a.size].reshape(a.shape)
        out[...] = a
    else:
        raise ValueError(f"unknown layout {kind!r}; one of {', '.join(LAYOUTS)}")
    if readonly:
        out.flags.writeable = False
    return out


def apply(form: CallForm | None, op: str, args, kwargs):
    """The arguments of one call of ``op`` in ``form``: (args, kwargs) with every array a fresh copy in
    its layout and stride/padding/dilation in their argument forms.  ``form=None`` returns them as given."""
    kwargs = dict(kwargs or {})
    if form is None:
        return tuple(args), kwargs
    names = ARRAY_NAMES.get(op, ())
    out = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            a = layout(a, form.layout(names[i]) if i < len(names) else "C", form.readonly)
        out.append(a)
    for key, val in list(kwargs.items()):
        if key in ("stride", "padding", "dilation"):
            kwargs[key] = arg_in_form(val, getattr(form, key), op_rank(op) if op in ARRAY_NAMES else 2)
        elif key in names and isinstance(val, np.ndarray):
            kwargs[key] = layout(val, form.layout(key), form.readonly)
    return tuple(out), kwargs
