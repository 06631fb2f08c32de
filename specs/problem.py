"""Problem descriptors: one frozen value per convolution problem, printable and parseable.

Two kinds of problem exist:

* :class:`Problem` -- a CNN conv layer (cross-correlation, NCHW)::

      y[n, o, i, j] = b[o] + sum_{c, u, v} x[n, g*C/G + c, i*sH + u*dH - pH, j*sW + v*dW - pW] * w[o, c, u, v]

  with ``g = o // (O/G)``, ``c < C/G`` and zero fill outside the input.  Its descriptor looks like
  ``n2c4h7w9_o6k3x2_s2x1_p1x0_d1x2_g2_bias_f32_int`` (benchdnn style).  The trailing fields may be
  left off when parsing (defaults: no bias, float64, int regime); ``str()`` always prints them all,
  so ``Problem.parse(str(p)) == p``.

* :class:`SignalProblem` -- a pair of plain arrays for ``convolve2d``/``correlate2d`` style
  operations: ``a5x5_k3x3_valid_f64_int``.  1-D shapes print as ``a7_k3``.

The output-shape formulas (:meth:`Problem.out_hw`, :func:`signal_out_shape`) live here and nowhere
else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

DTYPES = {"f16": np.float16, "bf16": None, "f32": np.float32, "f64": np.float64,
          "i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64, "c128": np.complex128}
REGIMES = ("int", "dya", "flt")
MODES = ("full", "same", "valid")


class DescriptorError(ValueError):
    """A descriptor string that does not parse, or describes an invalid problem."""


def np_dtype(name: str):
    """numpy dtype for a descriptor dtype name (bf16 has no numpy dtype: its values travel as f32)."""
    if name not in DTYPES:
        raise DescriptorError(f"unknown dtype {name!r}; known: {', '.join(DTYPES)}")
    return np.dtype(DTYPES[name] or np.float32)


def dtype_name(dt) -> str:
    dt = np.dtype(dt)
    for k, v in DTYPES.items():
        if v is not None and np.dtype(v) == dt:
            return k
    raise DescriptorError(f"dtype {dt} has no descriptor name")


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise DescriptorError(f"expected an int or a pair, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


@dataclass(frozen=True)
class Problem:
    """A conv2d layer problem.  All fields are plain ints/strings so the value hashes and prints."""

    n: int = 1
    c: int = 1
    h: int = 1
    w: int = 1
    o: int = 1
    kh: int = 1
    kw: int = 1
    sh: int = 1
    sw: int = 1
    ph: int = 0
    pw: int = 0
    dh: int = 1
    dw: int = 1
    g: int = 1
    bias: bool = False
    dtype: str = "f64"
    regime: str = "int"

    def __post_init__(self):
        errors = self.errors()
        if errors:
            raise DescriptorError(f"invalid problem {self._fmt()}: " + "; ".join(errors))

    # -- validity -------------------------------------------------------------------------------
    def errors(self) -> list[str]:
        """Every reason the problem is invalid (empty when valid): field values first, then, when
        they are sound, whether the output is non-empty."""
        return self._field_errors() or self._shape_errors()

    def _nonnegative(self) -> tuple[str, ...]:
        return ("n",)

    def _field_errors(self) -> list[str]:
        e = [f"{name} must be >= 0" for name in self._nonnegative() if getattr(self, name) < 0]
        for name in ("c", "h", "w", "o", "kh", "kw", "sh", "sw", "dh", "dw", "g"):
            if getattr(self, name) < 1:
                e.append(f"{name} must be >= 1")
        if self.ph < 0 or self.pw < 0:
            e.append("padding must be >= 0")
        if self.g >= 1 and (self.c % self.g or self.o % self.g):
            e.append(f"groups={self.g} must divide c={self.c} and o={self.o}")
        if self.dtype not in DTYPES:
            e.append(f"unknown dtype {self.dtype!r}")
        if self.regime not in REGIMES:
            e.append(f"unknown regime {self.regime!r}")
        return e

    def _shape_errors(self) -> list[str]:
        ho, wo = self.out_hw_raw()
        if ho < 1 or wo < 1:
            return [f"output would be {ho}x{wo}: the dilated kernel {self.ekh}x{self.ekw} exceeds the padded input "
                    f"{self.h + 2 * self.ph}x{self.w + 2 * self.pw}"]
        return []

    # -- derived quantities ---------------------------------------------------------------------
    @property
    def ekh(self) -> int:
        """Extent of the dilated kernel: dH*(kH-1)+1."""
        return self.dh * (self.kh - 1) + 1

    @property
    def ekw(self) -> int:
        return self.dw * (self.kw - 1) + 1

    def out_hw_raw(self) -> tuple[int, int]:
        """H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1, likewise W_out (may be < 1)."""
        ho = (self.h + 2 * self.ph - self.dh * (self.kh - 1) - 1) // self.sh + 1
        wo = (self.w + 2 * self.pw - self.dw * (self.kw - 1) - 1) // self.sw + 1
        return ho, wo

    def out_hw(self) -> tuple[int, int]:
        return self.out_hw_raw()

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c, self.h, self.w)

    @property
    def w_shape(self) -> tuple[int, int, int, int]:
        return (self.o, self.c // self.g, self.kh, self.kw)

    @property
    def b_shape(self) -> tuple[int] | None:
        return (self.o,) if self.bias else None

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.o, *self.out_hw())

    @property
    def k_terms(self) -> int:
        """K: products summed per output element (C/G * kH * kW), +1 for the bias."""
        return (self.c // self.g) * self.kh * self.kw + (1 if self.bias else 0)

    @property
    def np_dtype(self):
        return np_dtype(self.dtype)

    @property
    def depthwise(self) -> bool:
        return self.g == self.c and self.g > 1

    def size(self) -> int:
        """Number of multiply-adds of a direct evaluation (a cost measure for budgets)."""
        ho, wo = self.out_hw()
        return self.n * self.o * ho * wo * self.k_terms

    def kwargs(self) -> dict:
        """Keyword arguments of the contract's ``conv2d`` for this problem."""
        return dict(stride=(self.sh, self.sw), padding=(self.ph, self.pw),
                    dilation=(self.dh, self.dw), groups=self.g)

    def labels(self) -> list[str]:
        """Input classes, for hypothesis.event() coverage statistics."""
        lab = [f"regime={self.regime}", f"dtype={self.dtype}"]
        if self.depthwise:
            lab.append("groups=depthwise")
        elif self.g > 1:
            lab.append("groups=grouped")
        if self.kh != self.kw or self.h != self.w:
            lab.append("non-square")
        if max(self.sh, self.sw) > 1:
            lab.append("strided")
        if max(self.sh, self.sw) > max(self.kh, self.kw):
            lab.append("stride>kernel")
        if max(self.dh, self.dw) > 1:
            lab.append("dilated")
        if self.ph or self.pw:
            lab.append("padded")
        if self.ph >= self.kh or self.pw >= self.kw:
            lab.append("padding>=kernel")
        if self.ekh > self.h or self.ekw > self.w:
            lab.append("kernel>input")
        if self.kh == self.kw == 1:
            lab.append("1x1")
        if self.n > 1:
            lab.append("batch>1")
        if self.bias:
            lab.append("bias")
        lab.append("size=" + ("tiny" if self.size() < 500 else "small" if self.size() < 20_000
                              else "medium" if self.size() < 500_000 else "large"))
        return lab

    # -- descriptor -----------------------------------------------------------------------------
    def _fmt(self) -> str:
        return (f"n{self.n}c{self.c}h{self.h}w{self.w}_o{self.o}k{self.kh}x{self.kw}"
                f"_s{self.sh}x{self.sw}_p{self.ph}x{self.pw}_d{self.dh}x{self.dw}_g{self.g}"
                f"_{'bias' if self.bias else 'nobias'}_{self.dtype}_{self.regime}")

    def __str__(self) -> str:
        return self._fmt()

    _RE = re.compile(
        r"^n(\d+)c(\d+)h(\d+)w(\d+)_o(\d+)k(\d+)(?:x(\d+))?"
        r"(?:_s(\d+)(?:x(\d+))?)?(?:_p(\d+)(?:x(\d+))?)?(?:_d(\d+)(?:x(\d+))?)?(?:_g(\d+))?"
        r"(?:_(bias|nobias))?(?:_(f16|bf16|f32|f64|i8|i16|i32|i64|c128))?(?:_(int|dya|flt))?$")

    @classmethod
    def parse(cls, text: str) -> "Problem":
        m = cls._RE.match(text.strip())
        if not m:
            raise DescriptorError(
                f"cannot parse conv problem {text!r}; expected e.g. n2c4h7w9_o6k3x2_s2x1_p1x0_d1x2_g2"
                "[_bias|_nobias][_f32][_int|_dya|_flt]")
        n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, g, bias, dt, reg = m.groups()

        def i(v, default):
            return default if v is None else int(v)

        kh_ = int(kh)
        sh_, ph_, dh_ = i(sh, 1), i(ph, 0), i(dh, 1)
        return cls(n=int(n), c=int(c), h=int(h), w=int(w), o=int(o), kh=kh_, kw=i(kw, kh_),
                   sh=sh_, sw=i(sw, sh_), ph=ph_, pw=i(pw, ph_), dh=dh_, dw=i(dw, dh_), g=i(g, 1),
                   bias=(bias == "bias"), dtype=dt or "f64", regime=reg or "int")

    def with_(self, **kw) -> "Problem":
        return replace(self, **kw)


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


def _shape_str(s) -> str:
    return "x".join(str(v) for v in s)


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


def parse_any(text: str) -> Problem | SignalProblem:
    """Parse either kind of descriptor (a conv problem starts with ``n``, a signal problem with ``a``)."""
    text = text.strip()
    if text.startswith("n"):
        return Problem.parse(text)
    if text.startswith("a"):
        return SignalProblem.parse(text)
    raise DescriptorError(f"cannot parse descriptor {text!r}: neither a conv problem (n...) nor a signal problem (a...)")


# -- the transposed conv (and the backward pass of conv2d) ------------------------------------------

def transpose_out(size: int, k: int, s: int, p: int, op: int, d: int) -> int:
    """Output extent of a transposed conv: (size - 1) s - 2 p + d (k - 1) + op + 1 (torch's formula)."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


@dataclass(frozen=True)
class TransposeProblem(Problem):
    """A conv_transpose2d problem (torch semantics, NCHW), the adjoint of a conv2d::

        y[n, g*O/G + o, i*sH + u*dH - pH, j*sW + v*dW - pW] += x[n, g*C/G + c, i, j] * w[g*C/G + c, o, u, v]

    summed over every (c, i, j, u, v) whose target lies inside the output; then + b.  x: (N, C, H, W)
    with C the *input* channels, w: (C, O/G, kH, kW) (torch's layout), b: (O,), and the output is
    (N, O, H', W') with H' = (H - 1) sH - 2 pH + dH (kH - 1) + opH + 1 (:func:`transpose_out`).
    output_padding (opH, opW) must lie below max(stride, dilation) per axis (torch's rule).

    The same value describes the backward pass of the conv2d it transposes (:meth:`forward`): its
    input gradient is this transposed conv of grad_out = x (``conv2d_input``), and its weight gradient
    correlates the forward input (N, O, H', W') with grad_out (``conv2d_weight``).

    Descriptor: ``t`` + the conv grammar with an ``_op<h>x<w>`` field after the padding:
    ``tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2_bias_f32_int``; ``parse(str(p)) == p``.
    """

    oph: int = 0
    opw: int = 0

    def _nonnegative(self) -> tuple[str, ...]:
        return ("n", "oph", "opw")

    def _shape_errors(self) -> list[str]:
        e = []
        if self.oph >= max(self.sh, self.dh) or self.opw >= max(self.sw, self.dw):
            e.append(f"output_padding {self.oph}x{self.opw} must be smaller than the stride or the dilation "
                     f"({self.sh}x{self.sw} / {self.dh}x{self.dw}) per axis")
        ho, wo = self.out_hw_raw()
        if ho < 1 or wo < 1:
            e.append(f"output would be {ho}x{wo}: the padding {self.ph}x{self.pw} crops away the whole result")
        return e

    def out_hw_raw(self) -> tuple[int, int]:
        """H' = (H - 1) sH - 2 pH + dH (kH - 1) + opH + 1, likewise W'."""
        return (transpose_out(self.h, self.kh, self.sh, self.ph, self.oph, self.dh),
                transpose_out(self.w, self.kw, self.sw, self.pw, self.opw, self.dw))

    @property
    def w_shape(self) -> tuple[int, int, int, int]:
        return (self.c, self.o // self.g, self.kh, self.kw)

    @property
    def k_terms(self) -> int:
        """An upper bound on the terms per output element: C/G * kH * kW (+1 for the bias)."""
        return (self.c // self.g) * self.kh * self.kw + (1 if self.bias else 0)

    @property
    def gradient_ok(self) -> bool:
        """Whether this is the input gradient of a conv2d (output_padding below the stride: the forward
        conv of the output extent gives back H x W); torch.nn.grad needs it."""
        return self.oph < self.sh and self.opw < self.sw

    def forward(self) -> Problem:
        """The conv2d this transposes: input (N, O, H', W'), weight (C, O/G, kH, kW), output (N, C, H, W)
        (when :attr:`gradient_ok`)."""
        ho, wo = self.out_hw()
        return Problem(n=self.n, c=self.o, h=ho, w=wo, o=self.c, kh=self.kh, kw=self.kw, sh=self.sh, sw=self.sw,
                       ph=self.ph, pw=self.pw, dh=self.dh, dw=self.dw, g=self.g, bias=False, dtype=self.dtype,
                       regime=self.regime)

    @property
    def weight_terms(self) -> int:
        """Terms per element of the weight gradient: N * H * W (every grad_out element meets each tap once)."""
        return self.n * self.h * self.w

    def kwargs(self) -> dict:
        """Keyword arguments of the contract's ``conv_transpose2d`` for this problem."""
        return dict(stride=(self.sh, self.sw), padding=(self.ph, self.pw), output_padding=(self.oph, self.opw),
                    groups=self.g, dilation=(self.dh, self.dw))

    def grad_kwargs(self) -> dict:
        """Keyword arguments of ``conv2d_input``/``conv2d_weight`` (the forward conv's)."""
        return dict(stride=(self.sh, self.sw), padding=(self.ph, self.pw), dilation=(self.dh, self.dw),
                    groups=self.g)

    def labels(self) -> list[str]:
        lab = super().labels()
        if self.oph or self.opw:
            lab.append("output_padding")
        if self.oph >= self.sh or self.opw >= self.sw:
            lab.append("output_padding>=stride")
        return lab

    def _fmt(self) -> str:
        return (f"tn{self.n}c{self.c}h{self.h}w{self.w}_o{self.o}k{self.kh}x{self.kw}"
                f"_s{self.sh}x{self.sw}_p{self.ph}x{self.pw}_op{self.oph}x{self.opw}_d{self.dh}x{self.dw}_g{self.g}"
                f"_{'bias' if self.bias else 'nobias'}_{self.dtype}_{self.regime}")

    _RE = re.compile(
        r"^tn(\d+)c(\d+)h(\d+)w(\d+)_o(\d+)k(\d+)(?:x(\d+))?"
        r"(?:_s(\d+)(?:x(\d+))?)?(?:_p(\d+)(?:x(\d+))?)?(?:_op(\d+)(?:x(\d+))?)?(?:_d(\d+)(?:x(\d+))?)?(?:_g(\d+))?"
        r"(?:_(bias|nobias))?(?:_(f16|bf16|f32|f64|i8|i16|i32|i64|c128))?(?:_(int|dya|flt))?$")

    @classmethod
    def parse(cls, text: str) -> "TransposeProblem":
        m = cls._RE.match(text.strip())
        if not m:
            raise DescriptorError(
                f"cannot parse transposed-conv problem {text!r}; expected e.g. tn2c4h3w3_o6k3x2_s2x1_p1x0_op1x0_d1x2_g2"
                "[_bias|_nobias][_f32][_int|_dya|_flt]")
        n, c, h, w, o, kh, kw, sh, sw, ph, pw, oph, opw, dh, dw, g, bias, dt, reg = m.groups()

        def i(v, default):
            return default if v is None else int(v)

        kh_ = int(kh)
        sh_, ph_, oph_, dh_ = i(sh, 1), i(ph, 0), i(oph, 0), i(dh, 1)
        return cls(n=int(n), c=int(c), h=int(h), w=int(w), o=int(o), kh=kh_, kw=i(kw, kh_),
                   sh=sh_, sw=i(sw, sh_), ph=ph_, pw=i(pw, ph_), oph=oph_, opw=i(opw, oph_), dh=dh_, dw=i(dw, dh_),
                   g=i(g, 1), bias=(bias == "bias"), dtype=dt or "f64", regime=reg or "int")


_parse_any_2d = parse_any


def parse_any(text: str) -> Problem | SignalProblem:  # noqa: F811  (extends the two-kind version above)
    """Parse any descriptor: a conv problem (``n...``), a transposed-conv problem (``tn...``) or a
    signal problem (``a...``)."""
    if text.strip().startswith("tn"):
        return TransposeProblem.parse(text)
    return _parse_any_2d(text)
