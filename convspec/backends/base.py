"""Backends: thin adapters onto the contract (:mod:`convspec.model.contract`).

A backend has a ``name``, the set of ops it ``provides`` (contract ops plus library-specific ops
such as ``np.convolve`` that real-world claims need; every op name is declared in :data:`OPS`), and
:class:`Capabilities`.  Whether a claim applies to a backend is decided from the claim's
``needs``/``requires`` and these declarations -- nothing is keyed on a (claim, backend) pair or a name.

The built-in backends and the zoo's are found by name in :mod:`convspec.backends.registry` (which also
says how to add one).  A library-specific op needs a name in :data:`OPS` (or :func:`declare_op`) before claims may ``need`` it.

Outside implementations (``--impl TARGET``, ``--impl-cmd CMD``) are loaded by
:func:`convspec.isolation.loader.load` -- in a worker process (:mod:`convspec.isolation.supervisor`) or in
this one (:func:`load_impl`) -- into the same shape.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field, fields

from convspec.errors import ImplError
from convspec.model.contract import CONTRACT, DEFAULT_TIMEOUT, guarded_call
from convspec.model.layout import call_native, from_layout, normalize, permutes
from convspec.model.ops import ALL_DTYPES, KIND_DTYPES, KINDS, op_kind
from convspec.truth.tolerance import HALF_ACCUMULATORS, accumulation_for

#: every op name a backend may provide and a claim may need, with what it is
OPS: dict[str, str] = {
    "conv2d": "the contract's conv2d (CNN layer, cross-correlation, NCHW)",
    "convolve2d": "the contract's 2-D signal convolution (scipy.signal semantics)",
    "correlate2d": "the contract's 2-D signal correlation (scipy.signal semantics)",
    "conv_transpose2d": "the contract's transposed conv2d (torch semantics, weight (C_in, C_out/groups, kH, kW))",
    "conv2d_input": "the contract's gradient of conv2d with respect to its input (torch.nn.grad.conv2d_input)",
    "conv2d_weight": "the contract's gradient of conv2d with respect to its weight (torch.nn.grad.conv2d_weight)",
    "conv1d": "the contract's conv1d (NCW; conv2d with a height of 1)",
    "conv3d": "the contract's conv3d (NCDHW; conv2d with a depth axis)",
    **{f"conv_transpose{r}d": f"the contract's transposed conv{r}d" for r in (1, 3)},
    **{f"conv{r}d_input": f"the contract's gradient of conv{r}d with respect to its input" for r in (1, 3)},
    **{f"conv{r}d_weight": f"the contract's gradient of conv{r}d with respect to its weight" for r in (1, 3)},
    "dot2d": "the library's dot product of two 2-D arrays (np.dot / torch.matmul)",
    "np.convolve": "numpy.convolve", "np.correlate": "numpy.correlate", "np.pad": "numpy.pad",
    "scipy.signal.convolve": "scipy.signal.convolve", "scipy.signal.correlate": "scipy.signal.correlate",
    "scipy.signal.fftconvolve": "scipy.signal.fftconvolve", "scipy.ndimage.convolve": "scipy.ndimage.convolve",
    "scipy.ndimage.correlate": "scipy.ndimage.correlate",
    "torch.F": "the torch.nn.functional module", "torch.conv2d_same": "torch conv2d with padding='same'",
    "torch.conv_half": "torch conv2d in float16/bfloat16",
    "tf32.round": "rounding of float32 data to TF32's 11 significant bits",
}
#: the table above as written, whatever declare_op adds later (the generated docs list these)
BUILTIN_OPS = frozenset(OPS)


def declare_op(name: str, doc: str) -> None:
    """Declare a library-specific op name so that claims may ``need`` it (claims check the name)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"declare_op: name must be a non-empty string, not {name!r}")
    OPS.setdefault(name, doc)


#: the readings of a zero weight (capability ``zero_taps``): IEEE's, where 0 x NaN and 0 x +-Inf are NaN terms of the
#: direct sum, and the sparse filter's, where a zero weight is no term at all (scikit-image's correlate_sparse,
#: scipy.ndimage)
ZERO_TAPS = ("multiply", "skip")
#: the output_padding a transposed conv takes (capability ``output_padding``): the contract's, below the stride or the
#: dilation on each axis (torch's rule), or below the stride only (ONNX Runtime's and PaddlePaddle's)
OUTPUT_PADDING = ("stride-or-dilation", "stride")


@dataclass(frozen=True)
class Capabilities:
    """What an implementation supports; the suite skips (never fails) what lies outside.

    max_stride/max_dilation: largest stride/dilation accepted (1 = unsupported, None = no limit);
    groups: grouped/depthwise conv supported; padding: nonzero padding supported;
    bias: bias supported; dtypes: data types tested; max_size: largest spatial extent (H, W);
    max_channels: largest channels per group; max_batch: largest N; max_kernel: largest kH/kW
    (None = no declared limit; the strategies still draw within their own bounds);
    accuracy: "direct" (elementwise bound) or "fast" (FFT/Winograd, normwise bound);
    mode: accumulation mode ("tf32" for TF32 math on float32); examples: scale of the example budget;
    timeout: per-call time limit in seconds; deterministic: reruns are bitwise equal;
    gpu: the implementation runs on a GPU (claims about GPU paths ``require`` "gpu");
    padding_strings: conv2d accepts padding='valid' and padding='same' (stride 1; torch's split: the extra
    element of an even dilated kernel goes at the end); padding_modes: the conv2d ``padding_mode`` values
    accepted, out of zeros, reflect, replicate, circular (zeros is always the default); padding_pairs: the
    forward convs accept explicit (before, after) padding pairs per axis, asymmetric allowed;
    layout: "NCHW" (channels first, the default) or "NHWC" (channels last) -- for every rank (NCW/NWC,
    NCDHW/NDHWC); weight_layout: "OIHW" (torch's (a, b, k...), the default) or "HWIO" ((k..., b, a));
    zero_taps: "multiply" (the default: a zero weight times NaN or +-Inf is a NaN term) or "skip" (a zero weight
    is no term: the special-value claims judge by the sparse filter's reading, :data:`ZERO_TAPS`);
    output_padding: "stride-or-dilation" (the default: below max(stride, dilation) per axis) or "stride" (below
    the stride only: no transposed conv with a larger output_padding is drawn, :data:`OUTPUT_PADDING`).
    :meth:`Backend.call` passes the arrays in these layouts and brings the result back (:mod:`convspec.model.layout`).
    """

    max_stride: int | None = None
    max_dilation: int | None = None
    groups: bool = True
    padding: bool = True
    bias: bool = True
    dtypes: tuple = ("f64", "f32")
    max_size: int | None = None
    max_channels: int | None = None
    max_batch: int | None = None
    max_kernel: int | None = None
    accuracy: str = "direct"
    mode: str | None = None
    examples: float = 1.0
    timeout: float = DEFAULT_TIMEOUT
    deterministic: bool = True
    gpu: bool = False
    padding_strings: bool = False
    padding_modes: tuple = ("zeros",)
    padding_pairs: bool = False
    layout: str = "NCHW"
    weight_layout: str = "OIHW"
    accumulate: tuple = ()
    kernel_parity: str | None = None
    zero_taps: str = "multiply"
    output_padding: str = "stride-or-dilation"
    kind_dtypes: tuple = ()
    declared: tuple | None = None     # the keys an implementation's CAPABILITIES gave (None: a built-in backend)

    def __post_init__(self):
        for name in ("layout", "weight_layout"):     # canonical words (NWC, DHWIO, ... become NHWC, HWIO)
            object.__setattr__(self, name, normalize(name, getattr(self, name)))
        object.__setattr__(self, "accumulate", _accumulate_items(self.accumulate))
        dtypes, kinds = _dtypes_items(self.dtypes)
        kinds = tuple(sorted(dict(kinds + tuple(self.kind_dtypes)).items()))
        if kinds and not dtypes:
            dtypes = tuple(dict.fromkeys(d for _, ds in kinds for d in ds))
        object.__setattr__(self, "dtypes", dtypes)
        object.__setattr__(self, "kind_dtypes", kinds)

    def dtypes_for(self, kind: str) -> tuple:
        """The dtypes tested on ops of ``kind`` ('conv', 'transpose', 'input', 'weight', 'signal'): the kind's
        own declaration if there is one, else ``dtypes``, intersected with the kind's contract domain
        (:data:`convspec.model.ops.KIND_DTYPES`: the conv family is real floating point, the signal ops add integer and
        complex data)."""
        own = dict(self.kind_dtypes).get(kind)
        return tuple(d for d in (self.dtypes if own is None else own) if d in KIND_DTYPES[kind])

    def accumulator(self, dtype: str, op: str | None = None) -> str | None:
        """The declared accumulator format of ``dtype`` data for ``op`` ("<kind>:<dtype>" first, then
        "<dtype>"), or None (the standard model: half-precision data summed in fp32)."""
        table = dict(self.accumulate)
        if op is not None:
            try:
                kind = op_kind(op)
            except KeyError:
                kind = None
            if kind and f"{kind}:{dtype}" in table:
                return table[f"{kind}:{dtype}"]
        return table.get(dtype)

    @classmethod
    def from_dict(cls, d: dict, source: str = "CAPABILITIES") -> "Capabilities":
        """Build from a plugin's CAPABILITIES dict (keys: stride, dilation, groups, padding, bias,
        dtypes, max_size, max_channels, max_batch, max_kernel, accuracy, mode, timeout, layout, weight_layout, ...)."""
        alias = {"stride": "max_stride", "dilation": "max_dilation"}
        known = {f.name for f in fields(cls)} - {"declared"}
        kw = {}
        d = dict(d)
        # a worker relays its Capabilities whole (dataclasses.asdict), with the keys its module declared
        relayed = d.pop("declared", ()) if "declared" in d else ()
        if d.get("kind_dtypes"):
            d["kind_dtypes"] = tuple((k, tuple(v)) for k, v in d["kind_dtypes"])
        for k, v in d.items():
            k2 = alias.get(k, k)
            if k2 == "zero_taps" and v not in ZERO_TAPS:
                raise ImplError(f"{source}: zero_taps must be 'multiply' (a zero weight times NaN or Inf is NaN, "
                                f"IEEE's reading of the direct sum) or 'skip' (a zero weight contributes no term), "
                                f"not {v!r}")
            if k2 == "output_padding" and v not in OUTPUT_PADDING:
                raise ImplError(f"{source}: output_padding must be 'stride-or-dilation' (below the stride or the "
                                f"dilation on each axis, torch's rule) or 'stride' (below the stride only), not {v!r}")
            if k2 == "kernel_parity" and v not in (None, "odd"):
                raise ImplError(f"{source}: kernel_parity must be None or 'odd' (the signal ops take odd kernels "
                                f"only), not {v!r}")
            if k2 in ("padding_modes", "dtypes") and isinstance(v, list):
                v = tuple(v)           # a worker relays tuples as JSON lists
            if k2 not in known:
                raise ImplError(f"{source}: unknown capability {k!r}; known: "
                                f"{', '.join(sorted(set(known) | set(alias)))}")
            if k2 in ("max_stride", "max_dilation") and isinstance(v, bool):
                v = None if v else 1
            if k2 == "dtypes":
                try:
                    _dtypes_items(v)
                except (ValueError, TypeError) as e:
                    raise ImplError(f"{source}: {e}") from None
            if k2 == "accuracy" and v not in ("direct", "fast"):
                raise ImplError(f"{source}: accuracy must be 'direct' or 'fast', not {v!r}")
            if k2 == "accumulate":
                try:
                    v = _accumulate_items(v)
                except (ValueError, TypeError, AttributeError) as e:
                    raise ImplError(f"{source}: {e}") from None
            if k2 in ("layout", "weight_layout"):
                try:
                    v = normalize(k2, v, source)
                except ValueError as e:
                    raise ImplError(str(e)) from None
            kw[k2] = v
        declared = tuple(kw) if relayed == () else (None if relayed is None else tuple(relayed))
        return cls(**kw, declared=declared)

    def bound(self, name: str, limit: int) -> int:
        """The drawing bound for ``max_<name>``: the strategy's own ``limit``, or less if declared."""
        v = getattr(self, "max_" + name)
        return limit if v is None else min(limit, v)

    def fits(self, p) -> tuple[bool, str]:
        """Whether conv Problem ``p`` lies inside the declared capabilities (and if not, what is outside)."""
        def le(v, cap):
            return cap is None or v <= cap
        padded = any(lo or hi for lo, hi in p.pads)
        checks = [(p.dtype in self.dtypes_for("conv"), f"dtype {p.dtype}"), (le(max(p.spatial), self.max_size), "size"),
                  (le(max(p.stride), self.max_stride), "stride"), (le(max(p.dilation), self.max_dilation), "dilation"),
                  (p.g == 1 or self.groups, "groups"), (not padded or self.padding, "padding"),
                  (p.symmetric or self.padding_pairs, "asymmetric padding"),
                  (not p.bias or self.bias, "bias"), (le(max(p.kernel), self.max_kernel), "kernel"),
                  (le(p.n, self.max_batch), "batch"), (le(p.c // p.g, self.max_channels), "channels")]
        bad = [why for ok, why in checks if not ok]
        return not bad, ("outside declared capabilities: " + ", ".join(bad)) if bad else ""

    def fits_signal(self, p) -> tuple[bool, str]:
        """Whether SignalProblem ``p`` lies inside the declared capabilities (and if not, what is outside): the
        twin of :meth:`fits` for the signal ops (dtype, kernel parity, kernel and input extents)."""
        checks = [(p.dtype in self.dtypes_for("signal"), f"dtype {p.dtype}"),
                  (self.kernel_parity != "odd" or all(k % 2 for k in p.k), "even kernel extent"),
                  (self.max_kernel is None or max(p.k) <= self.max_kernel, "kernel"),
                  (self.max_size is None or max(p.a) <= self.max_size, "size")]
        bad = [why for ok, why in checks if not ok]
        return not bad, ("outside declared capabilities: " + ", ".join(bad)) if bad else ""

    def summary(self) -> str:
        def lim(v):
            return "any" if v is None else str(v)
        return (f"stride<={lim(self.max_stride)} dilation<={lim(self.max_dilation)} groups={self.groups} "
                f"padding={self.padding} bias={self.bias} dtypes={','.join(self.dtypes)} "
                f"size<={lim(self.max_size)} channels/group<={lim(self.max_channels)} batch<={lim(self.max_batch)} "
                f"kernel<={lim(self.max_kernel)} accuracy={self.accuracy}"
                + (f" mode={self.mode}" if self.mode else "") + (" gpu" if self.gpu else "")
                + f" layout={self.layout} weights={self.weight_layout}"
                + (f" zero_taps={self.zero_taps}" if self.zero_taps != "multiply" else "")
                + (f" output_padding<{self.output_padding}" if self.output_padding != "stride-or-dilation" else ""))

    def fits_output_padding(self, p) -> bool:
        """Whether transposed-conv problem ``p``'s output_padding lies inside the declared rule."""
        return self.output_padding != "stride" or all(op < s for op, s in zip(p.out_pad, p.stride))


def _dtypes_items(value) -> tuple[tuple, tuple]:
    """``dtypes`` as (dtypes, per-kind pairs): a sequence of dtype names (every kind), or a dict from op kind
    ('conv', 'transpose', 'input', 'weight', 'signal', or 'family' for the first four) to dtype names.
    Unknown names raise ValueError naming them."""
    if isinstance(value, str):
        raise ValueError(f"dtypes={value!r} must be a list of dtype names (or a dict per op kind), not one string")
    if isinstance(value, dict):
        pairs = {}
        for key, names in value.items():
            kinds = KINDS[:4] if key == "family" else (key,)
            if key != "family" and key not in KINDS:
                raise ValueError(f"dtypes: unknown op kind {key!r}; known: family, {', '.join(KINDS)}")
            for k in kinds:
                pairs[k] = _dtypes_items(names)[0]
        return (), tuple(sorted(pairs.items()))
    names = tuple(value)
    bad = [d for d in names if d not in ALL_DTYPES]
    if bad:
        raise ValueError(f"dtypes: unknown dtype {bad[0]!r}; known: {', '.join(ALL_DTYPES)}")
    return names, ()


def _accumulate_items(value) -> tuple:
    """``accumulate`` as sorted (key, format) pairs: key "<dtype>" or "<op kind>:<dtype>" (kinds: conv,
    transpose, input, weight) for a half-precision dtype, format "f32" or the dtype itself (sums in the half
    format).  A dict or pairs; anything else raises ValueError naming it."""
    items = value.items() if isinstance(value, dict) else value
    out = []
    for key, fmt in items:
        kind, _, dt = key.rpartition(":")
        if dt not in HALF_ACCUMULATORS or kind not in ("", "conv", "transpose", "input", "weight"):
            raise ValueError(f"accumulate: unknown key {key!r}; expected '<dtype>' or '<kind>:<dtype>' with dtype "
                             f"f16 or bf16 and kind conv, transpose, input or weight")
        if fmt not in HALF_ACCUMULATORS[dt]:
            raise ValueError(f"accumulate[{key!r}] = {fmt!r}: expected one of {', '.join(HALF_ACCUMULATORS[dt])}")
        out.append((key, fmt))
    return tuple(sorted(out))


@dataclass
class Backend:
    """An implementation under test: named ops plus capabilities.

    ``ops`` maps op names to callables.  Contract ops are called through :meth:`call`, which enforces
    the contract; library-specific ops are reached with :meth:`op`.
    """

    name: str
    ops: dict
    caps: Capabilities = field(default_factory=Capabilities)
    library: str = ""
    version: str = ""
    origin: str = "builtin"
    unavailable: str = ""          # non-empty: why this backend cannot run here (a skip reason)
    repro_args: tuple = ()         # command-line options that recreate it (--impl X ...), for repro commands
    departures: dict = field(default_factory=dict)   # claim id -> record: where the library departs (zoo)
    profile: object = None         # the resolved capability profile of an --impl (convspec.backends.probe.Profile)

    @property
    def provides(self) -> frozenset:
        return frozenset(self.ops)

    def op(self, name: str):
        return self.ops[name]

    def call(self, op: str, case, *, args=None, kwargs=None, expect=None):
        """Run contract op ``op`` on ``case`` under :func:`convspec.model.contract.guarded_call`.

        ``args``/``kwargs``/``expect`` are in the contract's order (channels first, OIHW weights).  For an
        implementation declaring another ``layout``/``weight_layout`` the arrays, the shape arguments and the
        expected shape are permuted to its layouts, and its result is brought back (a C-contiguous copy),
        so every claim compares against the channels-first definition (:mod:`convspec.model.layout`)."""
        __tracebackhide__ = True
        if permutes(op, self.caps):
            return from_layout(op, call_native(self, op, case, args=args, kwargs=kwargs, expect=expect), self.caps)
        out, _ = guarded_call(self.name, op, self.ops[op], case, timeout=self.caps.timeout,
                              args=args, kwargs=kwargs, expect=expect)
        return out

    def accumulation(self, dtype: str, op: str | None = None):
        """The error model's accumulation for ``dtype`` data (and ``op``: its declared accumulator)."""
        return accumulation_for(dtype, self.caps.mode, self.caps.accuracy, self.caps.accumulator(dtype, op))

    def __repr__(self) -> str:
        return f"<backend {self.name}>"


def _is_path(target: str) -> bool:
    return target.endswith(".py") or os.path.sep in target


def load_impl(target: str) -> Backend:
    """Load an --impl TARGET (a dotted module name or a path to a .py file) as a backend.

    The module defines any subset of conv2d/convolve2d/correlate2d, optionally CAPABILITIES (a dict,
    see :meth:`Capabilities.from_dict`) and NAME.
    """
    try:
        if _is_path(target):
            path = os.path.abspath(target)
            if not os.path.exists(path):
                raise ImplError(f"--impl {target}: no such file")
            modname = "convspec_impl_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
            spec = importlib.util.spec_from_file_location(modname, path)
            if spec is None or spec.loader is None:
                raise ImplError(f"--impl {target}: not a loadable Python file")
            mod = importlib.util.module_from_spec(spec)
            sys.modules[modname] = mod
            spec.loader.exec_module(mod)
        else:
            mod = importlib.import_module(target)
    except ImplError:
        raise
    except Exception as e:
        raise ImplError(f"--impl {target}: import failed: {type(e).__name__}: {e}") from None
    ops = {op: getattr(mod, op) for op in CONTRACT if callable(getattr(mod, op, None))}
    if not ops:
        raise ImplError(f"--impl {target}: defines none of the contract ({', '.join(CONTRACT)})")
    caps_dict = getattr(mod, "CAPABILITIES", None) or {}
    if not isinstance(caps_dict, dict):
        raise ImplError(f"--impl {target}: CAPABILITIES must be a dict")
    caps = Capabilities.from_dict(caps_dict, source=f"--impl {target}: CAPABILITIES")
    name = getattr(mod, "NAME", None) or "impl"
    return Backend(name=name, ops=ops, caps=caps, library=target, version=str(getattr(mod, "__version__", "")),
                   origin=target)
