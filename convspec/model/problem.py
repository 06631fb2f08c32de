"""Problem descriptors: one frozen value per convolution problem, printable and parseable.

Two kinds of problem exist:

* :class:`Problem` -- a CNN conv layer (cross-correlation) in 1, 2 or 3 spatial dimensions (NCW, NCHW,
  NCDHW)::

      y[n, o, i] = b[o] + sum_{c, u} x[n, g*C/G + c, i*s + u*d - p_lo] * w[o, c, u]

  with multi-indices i (output position), u (kernel tap), ``g = o // (O/G)``, ``c < C/G``, the products
  taken per axis, and zero fill outside the input.  Padding is a (before, after) pair per axis,
  asymmetric allowed.  Its descriptor looks like ``n2c4h7w9_o6k3x2_s2x1_p1x0_d1x2_g2_bias_f32_int``
  (benchdnn style; 2-D), ``n2c4w9_o6k3_s2_p1_d1_g2_…`` (1-D) or ``n2c4d5h7w9_o6k3x3x2_s1x1x2_p1x0x1_…``
  (3-D).  A padding entry is ``a`` (a before and after) or ``a-b`` (a before, b after); a list field
  with one entry applies to every axis.  The trailing fields may be left off when parsing (defaults:
  stride 1, no padding, dilation 1, one group, no bias, float64, int regime); ``str()`` always prints
  them all, so ``Problem.parse(str(p)) == p``.

* :class:`SignalProblem` -- a pair of plain arrays for ``convolve2d``/``correlate2d`` style
  operations: ``a5x5_k3x3_valid_f64_int``.  1-D shapes print as ``a7_k3``.

The output-shape formulas (:meth:`Problem.out_raw`, :meth:`TransposeProblem.out_raw`,
:func:`signal_out_shape`) live here and nowhere else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace

import numpy as np

from convspec.errors import DescriptorError

try:                                     # bfloat16 as a numpy dtype (a core dependency; absent: no bf16 arrays)
    from ml_dtypes import bfloat16 as _bfloat16
except ImportError:                      # pragma: no cover
    _bfloat16 = None

DTYPES = {"f16": np.float16, "bf16": _bfloat16, "f32": np.float32, "f64": np.float64,
          "i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64, "c128": np.complex128}
REGIMES = ("int", "dya", "flt")
MODES = ("full", "same", "valid")


def np_dtype(name: str):
    """numpy dtype for a descriptor dtype name (bf16: ``ml_dtypes.bfloat16``; without ml_dtypes its values
    travel as float32)."""
    if name not in DTYPES:
        raise DescriptorError(f"unknown dtype {name!r}; known: {', '.join(DTYPES)}")
    return np.dtype(DTYPES[name] or np.float32)


def dtype_name(dt) -> str:
    dt = np.dtype(dt)
    for k, v in DTYPES.items():
        if v is not None and np.dtype(v) == dt:
            return k
    raise DescriptorError(f"dtype {dt} has no descriptor name")


def _shape_str(s) -> str:
    return "x".join(str(v) for v in s)


#: spatial axis letters by rank (NCW, NCHW, NCDHW)
AXES = {1: "w", 2: "hw", 3: "dhw"}
#: the value of a tuple field left out, on every axis
_DEFAULT = {"spatial": 1, "kernel": 1, "stride": 1, "pads": 0, "dilation": 1, "out_pad": 0}


def ntuple(v, rank: int, what: str = "value") -> tuple:
    """An int (numpy integers included) or a sequence of ``rank`` ints -> a tuple of ``rank`` ints."""
    if isinstance(v, (tuple, list, np.ndarray)):
        if len(v) != rank:
            raise DescriptorError(f"{what} has {len(v)} entries; expected {rank} (one per spatial axis)")
        return tuple(int(t) for t in v)
    return (int(v),) * rank


def pad_pairs(v, rank: int) -> tuple:
    """Padding -> ((before, after), ...) per axis: an int, ``rank`` ints (symmetric) or ``rank`` pairs."""
    if isinstance(v, (tuple, list)):
        if len(v) != rank:
            raise DescriptorError(f"padding has {len(v)} entries; expected {rank} (one per spatial axis)")
        out = []
        for t in v:
            if isinstance(t, (tuple, list)):
                if len(t) != 2:
                    raise DescriptorError(f"a padding pair must be (before, after), not {t!r}")
                out.append((int(t[0]), int(t[1])))
            else:
                out.append((int(t), int(t)))
        return tuple(out)
    return ((int(v), int(v)),) * rank


@dataclass(frozen=True, init=False)
class Problem:
    """A conv layer problem in ``rank`` = 1, 2 or 3 spatial dimensions.  Spatial fields are tuples in
    (D, H, W) order (``spatial=(5, 7, 9), kernel=(3, 3, 2), pads=((1, 1), ...)``); ``pads`` holds a
    (before, after) pair per axis.  An int stands for the same value on every axis; a field left out is
    1 (0 for the padding) on every axis, and the rank is that of the first tuple given (2 if none is).
    Index -1 is the last axis (W), -2 the one before (H).
    """

    n: int
    c: int
    o: int
    spatial: tuple
    kernel: tuple
    stride: tuple
    pads: tuple
    dilation: tuple
    g: int
    bias: bool
    dtype: str
    regime: str

    def __init__(self, n=1, c=1, o=1, spatial=None, kernel=None, stride=None, pads=None, dilation=None, g=1,
                 bias=False, dtype="f64", regime="int"):
        self._init(n=n, c=c, o=o, spatial=spatial, kernel=kernel, stride=stride, pads=pads, dilation=dilation,
                   g=g, bias=bias, dtype=dtype, regime=regime)

    _TUPLES = ("spatial", "kernel", "stride", "pads", "dilation")

    def _init(self, **fields_):
        given = {k: fields_[k] for k in self._TUPLES + ("out_pad",) if fields_.get(k) is not None}
        rank = 2
        for v in given.values():
            if isinstance(v, (tuple, list)):
                rank = len(v)
                break
        if rank not in AXES:
            raise DescriptorError(f"a conv problem has 1, 2 or 3 spatial axes, not {rank}")
        vals = {}
        for k in self._tuple_fields():
            if k in given:
                vals[k] = pad_pairs(given[k], rank) if k == "pads" else ntuple(given[k], rank, k)
            else:
                d = _DEFAULT[k]
                vals[k] = ((d, d),) * rank if k == "pads" else (d,) * rank
        for k, v in {**fields_, **vals}.items():
            if k in ("spatial", "kernel", "stride", "pads", "dilation", "out_pad") and k not in self._tuple_fields():
                continue
            object.__setattr__(self, k, v)
        errors = self.errors()
        if errors:
            raise DescriptorError(f"invalid problem {self._fmt()}: " + "; ".join(errors))

    @classmethod
    def _tuple_fields(cls) -> tuple:
        return cls._TUPLES

    # -- validity -------------------------------------------------------------------------------
    def errors(self) -> list[str]:
        """Every reason the problem is invalid (empty when valid): field values first, then, when
        they are sound, whether the output is non-empty."""
        return self._field_errors() or self._shape_errors()

    def _field_errors(self) -> list[str]:
        e = []
        if self.n < 0:
            e.append("n must be >= 0")
        for name in ("c", "o", "g"):
            if getattr(self, name) < 1:
                e.append(f"{name} must be >= 1")
        for name, what in (("spatial", "spatial size"), ("kernel", "kernel"), ("stride", "stride"),
                           ("dilation", "dilation")):
            if min(getattr(self, name)) < 1:
                e.append(f"{what} must be >= 1 on every axis, not {getattr(self, name)}")
        if min(min(p) for p in self.pads) < 0:
            e.append("padding must be >= 0")
        if self.g >= 1 and (self.c % self.g or self.o % self.g):
            e.append(f"groups={self.g} must divide c={self.c} and o={self.o}")
        if self.dtype not in DTYPES:
            e.append(f"unknown dtype {self.dtype!r}")
        if self.regime not in REGIMES:
            e.append(f"unknown regime {self.regime!r}")
        return e

    def _shape_errors(self) -> list[str]:
        out = self.out_raw()
        if min(out) < 1:
            return [f"output would be {_shape_str(out)}: the dilated kernel {_shape_str(self.extent)} exceeds the "
                    f"padded input {_shape_str(tuple(s + lo + hi for s, (lo, hi) in zip(self.spatial, self.pads)))}"]
        return []

    # -- rank-generic quantities -------------------------------------------------------------------
    @property
    def rank(self) -> int:
        return len(self.spatial)

    @property
    def extent(self) -> tuple:
        """Extent of the dilated kernel per axis: d (k - 1) + 1."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def symmetric(self) -> bool:
        return all(lo == hi for lo, hi in self.pads)

    def out_raw(self) -> tuple:
        """Output size per axis: floor((L + p_before + p_after - d (k - 1) - 1) / s) + 1 (may be < 1)."""
        return tuple((L + lo + hi - d * (k - 1) - 1) // s + 1
                     for L, k, s, (lo, hi), d in zip(self.spatial, self.kernel, self.stride, self.pads, self.dilation))

    def out_spatial(self) -> tuple:
        return self.out_raw()

    @property
    def x_shape(self) -> tuple:
        return (self.n, self.c, *self.spatial)

    @property
    def w_shape(self) -> tuple:
        return (self.o, self.c // self.g, *self.kernel)

    @property
    def b_shape(self) -> tuple[int] | None:
        return (self.o,) if self.bias else None

    @property
    def y_shape(self) -> tuple:
        return (self.n, self.o, *self.out_spatial())

    @property
    def k_terms(self) -> int:
        """K: products summed per output element (C/G * prod(k)), +1 for the bias."""
        return (self.c // self.g) * math.prod(self.kernel) + (1 if self.bias else 0)

    @property
    def np_dtype(self):
        return np_dtype(self.dtype)

    @property
    def depthwise(self) -> bool:
        return self.g == self.c and self.g > 1

    def size(self) -> int:
        """Number of multiply-adds of a direct evaluation (a cost measure for budgets)."""
        return self.n * self.o * math.prod(self.out_spatial()) * self.k_terms

    def padding_arg(self):
        """The contract's ``padding``: a tuple of ints when symmetric, else a tuple of (before, after) pairs."""
        return tuple(lo for lo, _ in self.pads) if self.symmetric else tuple(self.pads)

    def kwargs(self) -> dict:
        """Keyword arguments of the contract's ``conv{rank}d`` for this problem."""
        return dict(stride=self.stride, padding=self.padding_arg(), dilation=self.dilation, groups=self.g)

    @property
    def op(self) -> str:
        """The contract op of this problem: conv1d, conv2d or conv3d."""
        return f"conv{self.rank}d"

    def labels(self) -> list[str]:
        """Input classes, for hypothesis.event() coverage statistics."""
        lab = [f"regime={self.regime}", f"dtype={self.dtype}"]
        if self.rank != 2:
            lab.append(f"rank={self.rank}")
        if self.depthwise:
            lab.append("groups=depthwise")
        elif self.g > 1:
            lab.append("groups=grouped")
        if len(set(self.kernel)) > 1 or len(set(self.spatial)) > 1:
            lab.append("non-square")
        if max(self.stride) > 1:
            lab.append("strided")
        if max(self.stride) > max(self.kernel):
            lab.append("stride>kernel")
        if max(self.dilation) > 1:
            lab.append("dilated")
        if any(lo or hi for lo, hi in self.pads):
            lab.append("padded")
        if not self.symmetric:
            lab.append("asymmetric-padding")
        if any(max(p) >= k for p, k in zip(self.pads, self.kernel)):
            lab.append("padding>=kernel")
        if any(e > L for e, L in zip(self.extent, self.spatial)):
            lab.append("kernel>input")
        if max(self.kernel) == 1:
            lab.append("1x1")
        if self.n > 1:
            lab.append("batch>1")
        if self.bias:
            lab.append("bias")
        lab.append("size=" + ("tiny" if self.size() < 500 else "small" if self.size() < 20_000
                              else "medium" if self.size() < 500_000 else "large"))
        return lab

    # -- descriptor -----------------------------------------------------------------------------
    _PREFIX = ""

    def _fmt_extra(self) -> str:
        return ""

    def _fmt(self) -> str:
        try:
            shape = "".join(f"{a}{v}" for a, v in zip(AXES[len(self.spatial)], self.spatial))
            pads = "x".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.pads)
            return (f"{self._PREFIX}n{self.n}c{self.c}{shape}_o{self.o}k{_shape_str(self.kernel)}"
                    f"_s{_shape_str(self.stride)}_p{pads}{self._fmt_extra()}_d{_shape_str(self.dilation)}_g{self.g}"
                    f"_{'bias' if self.bias else 'nobias'}_{self.dtype}_{self.regime}")
        except Exception:       # an invalid problem (wrong-length fields) still gets a readable message
            return repr(self.__dict__)

    def __str__(self) -> str:
        return self._fmt()

    _LIST = r"(\d+(?:x\d+){0,2})"
    _PADS = r"(\d+(?:-\d+)?(?:x\d+(?:-\d+)?){0,2})"
    _EXTRA_RE = ""
    _EXAMPLE = "n2c4h7w9_o6k3x2_s2x1_p1x0_d1x2_g2 (2-D), n2c4w9_o6k3_s2_p1-2 (1-D), n1c2d4h5w6_o3k3x3x2 (3-D)"

    @classmethod
    def _regex(cls):
        return re.compile(
            rf"^{cls._PREFIX}n(\d+)c(\d+)(?:d(\d+))?(?:h(\d+))?w(\d+)_o(\d+)k{cls._LIST}"
            rf"(?:_s{cls._LIST})?(?:_p{cls._PADS})?{cls._EXTRA_RE}(?:_d{cls._LIST})?(?:_g(\d+))?"
            r"(?:_(bias|nobias))?(?:_(f16|bf16|f32|f64|i8|i16|i32|i64|c128))?(?:_(int|dya|flt))?$")

    @classmethod
    def parse(cls, text: str) -> "Problem":
        m = cls._regex().match(text.strip())
        if not m:
            raise DescriptorError(f"cannot parse {cls._KIND} problem {text!r}; expected e.g. {cls._EXAMPLE}"
                                  "[_g<groups>][_bias|_nobias][_f32][_int|_dya|_flt]")
        groups = list(m.groups())
        n, c, d, h, w, o, k, s, p = groups[:9]
        extra = groups[9:9 + cls._EXTRA_GROUPS]
        dil, g, bias, dt, reg = groups[9 + cls._EXTRA_GROUPS:]
        if d is not None and h is None:
            raise DescriptorError(f"{text!r}: a depth needs a height (n..c..d..h..w..)")
        spatial = tuple(int(v) for v in (d, h, w) if v is not None)
        rank = len(spatial)

        def lst(v, default, what):
            if v is None:
                return (default,) * rank
            vals = tuple(int(t) for t in v.split("x"))
            if len(vals) == 1:
                return vals * rank
            if len(vals) != rank:
                raise DescriptorError(f"{text!r}: {what} has {len(vals)} entries for {rank} spatial axes")
            return vals

        if p is None:
            pads = ((0, 0),) * rank
        else:
            items = [tuple(int(t) for t in e.split("-")) for e in p.split("x")]
            items = [(e[0], e[0]) if len(e) == 1 else e for e in items]
            if len(items) == 1:
                items = items * rank
            if len(items) != rank:
                raise DescriptorError(f"{text!r}: padding has {len(items)} entries for {rank} spatial axes")
            pads = tuple(items)
        kw = cls._parse_extra(extra, lst)
        return cls(n=int(n), c=int(c), o=int(o), spatial=spatial, kernel=lst(k, 1, "kernel"),
                   stride=lst(s, 1, "stride"), pads=pads, dilation=lst(dil, 1, "dilation"),
                   g=1 if g is None else int(g), bias=(bias == "bias"), dtype=dt or "f64", regime=reg or "int", **kw)

    _KIND = "conv"
    _EXTRA_GROUPS = 0

    @classmethod
    def _parse_extra(cls, extra, lst) -> dict:
        return {}

    def with_(self, **kw) -> "Problem":
        """A copy with fields replaced (a tuple field by a whole tuple, or an int for every axis)."""
        vals = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, v in kw.items():
            if name not in vals:
                raise TypeError(f"with_: unknown field {name!r}")
            vals[name] = v
        return type(self)(**vals)

    def with_rank(self, rank: int) -> "Problem":
        """The same problem with spatial axes dropped from the front or added there with size 1 (kernel 1,
        stride 1, padding 0, dilation 1): conv1d is conv2d with H = 1, conv2d conv3d with D = 1."""
        have = self.rank
        vals = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in self._tuple_fields():
            v = vals[k]
            if rank < have:
                dropped = v[:have - rank]
                unit = ((0, 0) if k in ("pads",) else 0 if k == "out_pad" else 1)
                if any(t != unit for t in dropped):
                    raise DescriptorError(f"{self}: cannot drop axes with {k} {dropped}")
                vals[k] = v[have - rank:]
            else:
                unit = ((0, 0) if k == "pads" else 0 if k == "out_pad" else 1)
                vals[k] = (unit,) * (rank - have) + tuple(v)
        return type(self)(**vals)


def signal_out_shape(a_shape, k_shape, mode: str) -> tuple[int, ...]:
    """Output shape of scipy-semantics convolve/correlate of ``a`` with ``k``.

    full: M+P-1; same: M (the first argument's shape); valid: |M-P|+1 when one array is at least
    as large as the other in every dimension, else a ValueError (scipy's rule).
    """
    if len(a_shape) != len(k_shape):
        raise DescriptorError(f"rank mismatch: {a_shape} vs {k_shape}")
    if mode == "full":
        return tuple(m + p - 1 for m, p in zip(a_shape, k_shape))
    if mode == "same":
        return tuple(a_shape)
    if mode == "valid":
        if all(m >= p for m, p in zip(a_shape, k_shape)) or all(p >= m for m, p in zip(a_shape, k_shape)):
            return tuple(abs(m - p) + 1 for m, p in zip(a_shape, k_shape))
        raise ValueError("For 'valid' mode, one must be at least as large as the other in every dimension")
    raise DescriptorError(f"unknown mode {mode!r}; expected one of {MODES}")


@dataclass(frozen=True)
class SignalProblem:
    """A pair of arrays ``a`` (signal) and ``k`` (kernel) with a mode: ``a5x5_k3x3_valid_f64_int``."""

    a: tuple[int, ...] = (1, 1)
    k: tuple[int, ...] = (1, 1)
    mode: str = "full"
    dtype: str = "f64"
    regime: str = "int"
    extra: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if len(self.a) != len(self.k) or not self.a or min(self.a + self.k) < 1:
            raise DescriptorError(f"invalid signal shapes {self.a} / {self.k}")
        if self.mode not in MODES:
            raise DescriptorError(f"unknown mode {self.mode!r}")
        if self.dtype not in DTYPES:
            raise DescriptorError(f"unknown dtype {self.dtype!r}")

    def out_shape(self) -> tuple[int, ...]:
        return signal_out_shape(self.a, self.k, self.mode)

    @property
    def np_dtype(self):
        return np_dtype(self.dtype)

    def labels(self) -> list[str]:
        lab = [f"mode={self.mode}", f"regime={self.regime}", f"dtype={self.dtype}"]
        if any(p % 2 == 0 for p in self.k):
            lab.append("even-kernel")
        if any(p > m for m, p in zip(self.a, self.k)):
            lab.append("kernel>input")
        if len(set(self.a)) > 1 or len(set(self.k)) > 1:
            lab.append("non-square")
        return lab

    def __str__(self) -> str:
        s = f"a{_shape_str(self.a)}_k{_shape_str(self.k)}_{self.mode}_{self.dtype}_{self.regime}"
        return s + "".join("_" + e for e in self.extra)

    _RE = re.compile(r"^a([\dx]+)_k([\dx]+)(?:_(full|same|valid))?(?:_(f16|bf16|f32|f64|i8|i16|i32|i64|c128))?"
                     r"(?:_(int|dya|flt))?((?:_[\w.=-]+)*)$")

    @classmethod
    def parse(cls, text: str) -> "SignalProblem":
        m = cls._RE.match(text.strip())
        if not m:
            raise DescriptorError(f"cannot parse signal problem {text!r}; expected e.g. a5x5_k3x3_valid_f64_int")
        a, k, mode, dt, reg, extra = m.groups()
        return cls(a=tuple(int(v) for v in a.split("x")), k=tuple(int(v) for v in k.split("x")),
                   mode=mode or "full", dtype=dt or "f64", regime=reg or "int",
                   extra=tuple(e for e in (extra or "").split("_") if e))

    def with_(self, **kw) -> "SignalProblem":
        return replace(self, **kw)


# -- the transposed conv (and the backward pass of conv) ----------------------------------------------

def transpose_out(size: int, k: int, s: int, p: int, op: int, d: int) -> int:
    """Output extent of a transposed conv: (size - 1) s - 2 p + d (k - 1) + op + 1 (torch's formula)."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


@dataclass(frozen=True, init=False)
class TransposeProblem(Problem):
    """A conv_transpose{1,2,3}d problem (torch semantics, NC + spatial), the adjoint of a conv::

        y[n, g*O/G + o, i*s + u*d - p] += x[n, g*C/G + c, i] * w[g*C/G + c, o, u]

    (multi-indices, per axis) summed over every (c, i, u) whose target lies inside the output; then + b.
    x: (N, C, L...) with C the *input* channels, w: (C, O/G, k...) (torch's layout), b: (O,), and the
    output is (N, O, L'...) with L' = (L - 1) s - 2 p + d (k - 1) + op + 1 (:func:`transpose_out`).
    output_padding ``out_pad`` must lie below max(stride, dilation) per axis (torch's rule); the padding is
    symmetric (torch's transposed convs take one value per axis).

    The same value describes the backward pass of the conv it transposes (:meth:`forward`): its input
    gradient is this transposed conv of grad_out = x (``conv{r}d_input``), and its weight gradient
    correlates the forward input (N, O, L'...) with grad_out (``conv{r}d_weight``).

    Descriptor: ``t`` + the conv grammar with an ``_op`` field after the padding:
    ``tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2_bias_f32_int``; ``parse(str(p)) == p``.
    """

    out_pad: tuple

    def __init__(self, n=1, c=1, o=1, spatial=None, kernel=None, stride=None, pads=None, dilation=None, g=1,
                 bias=False, dtype="f64", regime="int", out_pad=None):
        self._init(n=n, c=c, o=o, spatial=spatial, kernel=kernel, stride=stride, pads=pads, dilation=dilation,
                   g=g, bias=bias, dtype=dtype, regime=regime, out_pad=out_pad)

    @classmethod
    def _tuple_fields(cls) -> tuple:
        return cls._TUPLES + ("out_pad",)

    _PREFIX = "t"
    _KIND = "transposed-conv"
    _EXTRA_RE = r"(?:_op(\d+(?:x\d+){0,2}))?"
    _EXTRA_GROUPS = 1
    _EXAMPLE = "tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2"

    @classmethod
    def _parse_extra(cls, extra, lst) -> dict:
        return {"out_pad": lst(extra[0], 0, "output_padding")}

    def _fmt_extra(self) -> str:
        return f"_op{_shape_str(self.out_pad)}"

    def _field_errors(self) -> list[str]:
        e = super()._field_errors()
        if min(self.out_pad) < 0:
            e.append("output_padding must be >= 0")
        if not self.symmetric:
            e.append(f"a transposed conv takes one padding per axis, not (before, after) pairs {self.pads}")
        return e

    def _shape_errors(self) -> list[str]:
        e = []
        if any(op >= max(s, d) for op, s, d in zip(self.out_pad, self.stride, self.dilation)):
            e.append(f"output_padding {_shape_str(self.out_pad)} must be smaller than the stride or the dilation "
                     f"({_shape_str(self.stride)} / {_shape_str(self.dilation)}) per axis")
        out = self.out_raw()
        if min(out) < 1:
            e.append(f"output would be {_shape_str(out)}: the padding {_shape_str([p for p, _ in self.pads])} crops "
                     "away the whole result")
        return e

    def out_raw(self) -> tuple:
        """L' = (L - 1) s - 2 p + d (k - 1) + op + 1 per axis."""
        return tuple(transpose_out(L, k, s, p, op, d) for L, k, s, (p, _), op, d
                     in zip(self.spatial, self.kernel, self.stride, self.pads, self.out_pad, self.dilation))

    @property
    def w_shape(self) -> tuple:
        return (self.c, self.o // self.g, *self.kernel)

    @property
    def k_terms(self) -> int:
        """An upper bound on the terms per output element: C/G * prod(k) (+1 for the bias)."""
        return (self.c // self.g) * math.prod(self.kernel) + (1 if self.bias else 0)

    @property
    def gradient_ok(self) -> bool:
        """Whether this is the input gradient of a conv (output_padding below the stride: the forward conv
        of the output extent gives back the input size); torch.nn.grad needs it."""
        return all(op < s for op, s in zip(self.out_pad, self.stride))

    def forward(self) -> Problem:
        """The conv this transposes: input (N, O, L'...), weight (C, O/G, k...), output (N, C, L...) (when
        :attr:`gradient_ok`)."""
        return Problem(n=self.n, c=self.o, o=self.c, spatial=self.out_spatial(), kernel=self.kernel,
                       stride=self.stride, pads=self.pads, dilation=self.dilation, g=self.g, bias=False,
                       dtype=self.dtype, regime=self.regime)

    @property
    def weight_terms(self) -> int:
        """Terms per element of the weight gradient: N * prod(L) (every grad_out element meets each tap once)."""
        return self.n * math.prod(self.spatial)

    @property
    def op(self) -> str:
        return f"conv_transpose{self.rank}d"

    def kwargs(self) -> dict:
        """Keyword arguments of the contract's ``conv_transpose{rank}d`` for this problem."""
        return dict(stride=self.stride, padding=self.padding_arg(), output_padding=self.out_pad, groups=self.g,
                    dilation=self.dilation)

    def grad_kwargs(self) -> dict:
        """Keyword arguments of ``conv{rank}d_input``/``conv{rank}d_weight`` (the forward conv's)."""
        return dict(stride=self.stride, padding=self.padding_arg(), dilation=self.dilation, groups=self.g)

    def labels(self) -> list[str]:
        lab = super().labels()
        if max(self.out_pad):
            lab.append("output_padding")
        if any(op >= s for op, s in zip(self.out_pad, self.stride)):
            lab.append("output_padding>=stride")
        return lab


def parse_any(text: str) -> Problem | SignalProblem:
    """Parse any descriptor: a conv problem (``n...``), a transposed-conv problem (``tn...``) or a signal
    problem (``a...``)."""
    text = text.strip()
    if text.startswith("tn"):
        return TransposeProblem.parse(text)
    if text.startswith("n"):
        return Problem.parse(text)
    if text.startswith("a"):
        return SignalProblem.parse(text)
    raise DescriptorError(f"cannot parse descriptor {text!r}: neither a conv problem (n..., tn...) nor a signal "
                          "problem (a...)")
