"""The machine's measured facts, and the conditions that library-internal claims were measured under.

A claim that models a library's internals (the rounding of a CPU kernel, the algorithm cuDNN or
``method='auto'`` picks) is true where it was measured, not everywhere.  Such a claim carries a
:class:`Condition`: a statement of what it was measured on, and requirements checked against
:func:`facts` where it runs.  :data:`MEASURED` maps claim ids to conditions (:func:`measured` registers
one); :func:`condition_holds` is what the claims registry consults, so a claim whose condition is false
here is *not applicable here*, with the reason, instead of a wrong verdict.

**Facts** (each measured when first asked for):

* the CPU: ``platform.machine()``, the model name and the feature flags of ``/proc/cpuinfo`` (its
  ``flags`` line on x86, ``Features`` on ARM);
* torch's vector capability, ``torch.backends.cpu.get_cpu_capability()`` (DEFAULT, AVX2, AVX512, ...);
* the installed versions of torch, numpy and scipy;
* the CPU conv kernel torch picks per format, float16/bfloat16/float32, forward and transposed, read
  with ``torch._C._select_conv_backend`` on a small batched probe (ATen's ``slow_conv*`` family, family
  "aten", or oneDNN's, family "onednn");
* the GPU: compute capability, name, cuDNN version (only when a condition asks: reading them
  initialises CUDA).

**The kernel rule** (torch 2.13, aten/src/ATen/native/Convolution.cpp ``ConvParams::use_mkldnn`` and
aten/src/ATen/native/mkldnn/Utils.h): with oneDNN available and enabled, a CPU float16/bfloat16 conv,
forward or transposed, goes to oneDNN whenever the CPU passes ``mkldnn_fp16_device_check`` /
``mkldnn_bf16_device_check``, whatever the shape (a transposed conv with an output_padding beyond its
stride and dilation excepted); otherwise to the ATen kernels (im2col/col2im + gemm).  On x86 the checks
are ideep's ``has_bf16_type_support`` (oneDNN's effective ISA at least avx2_vnni_2: AVX-512 F+BW+VL+DQ,
or AVX-VNNI-INT8 with AVX-NE-CONVERT) and ``has_fp16_type_support`` (avx512_core_fp16 -- AVX512-FP16 --
or avx2_vnni_2).  So bfloat16 leaves the ATen kernels on every AVX-512 CPU, BF16 instructions or not.
Float32 goes to oneDNN for most shapes (batch above 1 among them).

**Overrides** (for tests, and to ask "what would this machine say"), read on every call:

* ``CONVSPEC_CPU_FEATURES``: the CPU flags, comma- or space-separated, as /proc/cpuinfo writes them
  (``avx2,fma``), or edits of the measured ones (``+avx512f,+avx512bw,-avx2``); ``none`` for no flag
  (set but empty: not set).
  With it set, the float16/bfloat16 kernels are *predicted* from the flags by the rule above (x86-64),
  no longer measured -- the real kernels follow the real CPU;
* ``CONVSPEC_MACHINE``: other facts, ``key=value`` separated by ``;`` or ``,``: ``torch``, ``numpy``,
  ``scipy`` (versions), ``arch``, ``gpu`` (compute capability ``9.0``, or ``none``), ``cudnn`` (``9.19.0``).

A malformed override raises :class:`MachineOverrideError` naming the variable and the bad item.
"""

from __future__ import annotations

import functools
import os
import platform
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Callable

from packaging.version import InvalidVersion, Version

from convspec.errors import MachineOverrideError

ENV_FEATURES = "CONVSPEC_CPU_FEATURES"
ENV_MACHINE = "CONVSPEC_MACHINE"
LIBRARIES = ("torch", "numpy", "scipy")
MACHINE_KEYS = (*LIBRARIES, "arch", "gpu", "cudnn")
HALF = ("f16", "bf16")
OPS = ("conv", "conv_transpose")

#: the flags worth naming in a report: what the kernel rules and the measured conditions look at
SHOWN_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16",
               "avx512_fp16", "amx_tile", "amx_bf16", "amx_fp16", "avx_vnni", "avx_vnni_int8", "avx_ne_convert",
               "asimd", "asimdhp", "fphp", "bf16", "sve", "sve2")
AVX512_CORE = frozenset({"avx512f", "avx512bw", "avx512vl", "avx512dq"})
#: oneDNN's avx2_vnni_2 (Sierra Forest, Arrow Lake ...); Linux may not list the last two flags
AVX2_VNNI_2 = frozenset({"avx2", "avx_vnni", "avx_vnni_int8", "avx_ne_convert"})
#: oneDNN's avx512_core_fp16 (Sapphire Rapids and later)
AVX512_CORE_FP16 = AVX512_CORE | {"avx512_vnni", "avx512_bf16", "avx512_fp16"}

_FLAG = re.compile(r"[a-z0-9_.]+\Z")


# -- reading the machine ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset]:
    """(model name, flags) from /proc/cpuinfo's first processor; ('', {}) where there is none."""
    model, flags = "", frozenset()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in ("model name", "hardware", "cpu model") and not model:
                    model = value.strip()
                elif key in ("flags", "features") and not flags:
                    flags = frozenset(value.split())
                if not line.strip() and flags:
                    break
    except OSError:
        pass
    return model, flags


def parse_features(text: str, measured: frozenset) -> frozenset:
    """The flags CONVSPEC_CPU_FEATURES sets: a list replaces ``measured``, a list of +flag/-flag edits it."""
    items = [t for t in re.split(r"[,\s]+", text.strip()) if t]
    if not items:
        raise MachineOverrideError(f"{ENV_FEATURES}={text!r} names no flag; write 'none' for a CPU without flags")
    if items == ["none"]:
        return frozenset()
    edits = [t[0] in "+-" for t in items]
    if any(edits) and not all(edits):
        raise MachineOverrideError(f"{ENV_FEATURES}={text!r} mixes edits (+flag/-flag) and plain flags; write either "
                                   "the whole list (avx2,fma) or edits of the measured flags (+avx512f,-avx2)")
    out = set(measured) if all(edits) else set()
    for t in items:
        name = t[1:] if t[0] in "+-" else t
        if not _FLAG.match(name):
            raise MachineOverrideError(f"{ENV_FEATURES}: {t!r} is not a CPU flag as /proc/cpuinfo writes it "
                                       "(lowercase letters, digits and '_', e.g. avx512_bf16)")
        (out.discard if t[0] == "-" else out.add)(name)
    return frozenset(out)


def parse_machine(text: str) -> dict:
    """The facts CONVSPEC_MACHINE sets: {key: value} for keys of :data:`MACHINE_KEYS`."""
    out = {}
    for item in (t.strip() for t in re.split(r"[;,]", text)):
        if not item:
            continue
        key, eq, value = (s.strip() for s in item.partition("="))
        if not eq or not value:
            raise MachineOverrideError(f"{ENV_MACHINE}: {item!r} is not key=value (e.g. torch=2.14.0; gpu=9.0)")
        if key not in MACHINE_KEYS:
            raise MachineOverrideError(f"{ENV_MACHINE}: unknown key {key!r} in {item!r}; known: {', '.join(MACHINE_KEYS)}")
        if key in (*LIBRARIES, "cudnn") or (key == "gpu" and value != "none"):
            try:
                Version(value)
            except InvalidVersion:
                raise MachineOverrideError(f"{ENV_MACHINE}: {item!r}: {value!r} is not a version number") from None
        out[key] = value
    return out


@functools.lru_cache(maxsize=None)
def _version(lib: str) -> str:
    try:
        return version(lib)
    except PackageNotFoundError:
        return ""


#: ConvBackend values the torch 2.13 binding leaves unnamed (aten/src/ATen/native/ConvUtils.h's enum order)
_UNNAMED = {9: "MkldnnTranspose"}


def kernel_family(name: str) -> str:
    """'aten' for ATen's own CPU kernels (slow_conv2d/3d, dilated, transposed), 'onednn' for oneDNN's."""
    if name.startswith("Slow"):
        return "aten"
    return "onednn" if name.startswith("Mkldnn") else name


def _torch_kernels() -> dict:
    """{'<f16|bf16|f32> <conv|conv_transpose>': ConvBackend name} torch picks on a batched 2-D probe (N=2, C=2,
    5x5 input, 3x3 kernel): the choice for the half formats does not depend on the shape (module docstring)."""
    try:
        import torch  # lazy: torch is an optional extra (about 3 s); the claims module imports this one
    except ImportError:
        return {}
    select = getattr(torch._C, "_select_conv_backend", None)
    if select is None:          # a torch without the query: no kernel is known, so no kernel condition holds
        return {}
    out = {}
    for dt, td in (("f16", torch.float16), ("bf16", torch.bfloat16), ("f32", torch.float32)):
        x, w = torch.zeros((2, 2, 5, 5), dtype=td), torch.zeros((2, 2, 3, 3), dtype=td)
        for op in OPS:
            b = select(x, w, None, [1, 1], [0, 0], [1, 1], op == "conv_transpose", [0, 0], 1)
            out[f"{dt} {op}"] = b.name if b.name != "???" else _UNNAMED.get(int(b), f"ConvBackend({int(b)})")
    return out


def _onednn_on() -> bool:
    try:
        import torch  # lazy: torch is an optional extra (about 3 s); the claims module imports this one
    except ImportError:
        return False
    return bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled)


def predicted_kernels(flags: frozenset, arch: str, onednn: bool) -> dict:
    """The half-format kernel families torch 2.13 picks on an ``arch`` CPU with ``flags`` (module docstring's
    rule; x86-64 only -- elsewhere None)."""
    if arch not in ("x86_64", "AMD64"):
        return {}
    vnni2 = AVX2_VNNI_2 <= flags
    fam = {"bf16": onednn and (AVX512_CORE <= flags or vnni2), "f16": onednn and (AVX512_CORE_FP16 <= flags or vnni2)}
    return {f"{dt} {op}": (("Mkldnn" if op == "conv" else "MkldnnTranspose") if fam[dt] else
                                ("Slow2d" if op == "conv" else "SlowTranspose2d"))
            for dt in HALF for op in OPS}


class Facts:
    """What this machine is, measured (or overridden by the environment) when first asked for."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.features_env = env.get(ENV_FEATURES) or None          # set but empty: not set
        self.overrides = parse_machine(env.get(ENV_MACHINE, ""))
        if self.features_env is not None:
            parse_features(self.features_env, frozenset())    # parse now: a bad value fails here, loudly
        self.overridden = tuple(sorted(self.overrides)) + ((ENV_FEATURES,) if self.features_env is not None else ())

    @functools.cached_property
    def arch(self) -> str:
        return self.overrides.get("arch", platform.machine())

    @property
    def cpu_model(self) -> str:
        return _cpuinfo()[0]

    @functools.cached_property
    def cpu_flags(self) -> frozenset:
        measured = _cpuinfo()[1]
        return measured if self.features_env is None else parse_features(self.features_env, measured)

    @functools.cached_property
    def capability(self) -> str:
        try:
            import torch  # lazy: torch is an optional extra (about 3 s); the claims module imports this one
        except ImportError:
            return ""
        return torch.backends.cpu.get_cpu_capability()

    def version(self, lib: str) -> str:
        return self.overrides.get(lib) or _version(lib)

    @functools.cached_property
    def kernels(self) -> dict:
        """{'<dtype> <op>': ConvBackend name}: measured, or for the half formats predicted from overridden flags."""
        measured = _torch_kernels()
        if self.features_env is None:
            return measured
        return {**measured, **predicted_kernels(self.cpu_flags, self.arch, _onednn_on())}

    @functools.cached_property
    def gpu(self) -> tuple[str, str, str]:
        """(compute capability 'major.minor', device name, cuDNN version), '' for what is absent."""
        if "gpu" in self.overrides:
            cc = "" if self.overrides["gpu"] == "none" else self.overrides["gpu"]
            return cc, "(overridden)" if cc else "", self.overrides.get("cudnn", "")
        cc, name, cudnn = "", "", ""
        try:
            import torch  # lazy: torch is an optional extra (about 3 s); the claims module imports this one
            if torch.cuda.is_available():
                cc = "%d.%d" % torch.cuda.get_device_capability(0)
                name = torch.cuda.get_device_name(0)
                v = torch.backends.cudnn.version()
                if v:
                    major, rest = (v // 10000, v % 10000) if v >= 90000 else (v // 1000, v % 1000)
                    cudnn = f"{major}.{rest // 100}.{rest % 100}"
        except Exception:  # a broken CUDA install is a machine without a usable GPU
            pass
        return cc, name, self.overrides.get("cudnn", cudnn)

    def shown_flags(self) -> str:
        shown = [f for f in SHOWN_FLAGS if f in self.cpu_flags]
        return ", ".join(shown) if shown else "none of " + ", ".join(SHOWN_FLAGS[:4])

    def describe(self) -> str:
        """One line: CPU, flags that matter, torch's capability and kernels, library versions."""
        k = self.kernels
        kern = "; ".join(f"{dt}: {k.get(dt + ' conv', '?')}/{k.get(dt + ' conv_transpose', '?')}"
                         for dt in (*HALF, "f32")) if k else "torch absent"
        vers = ", ".join(f"{lib} {self.version(lib) or 'absent'}" for lib in LIBRARIES)
        over = f" [overridden: {', '.join(self.overridden)}]" if self.overridden else ""
        return (f"{self.arch} {self.cpu_model or '(model unknown)'}; flags {self.shown_flags()}; torch CPU capability "
                f"{self.capability or '?'}; torch CPU conv kernels (conv/transposed) {kern}; {vers}{over}")


def facts(environ=None) -> Facts:
    """This machine's facts, with the environment's overrides (read now)."""
    return Facts(environ)


def describe() -> str:
    """:meth:`Facts.describe` of this machine (for report headers)."""
    return facts().describe()


# -- requirements and conditions ------------------------------------------------------------------------

#: a requirement: facts -> "" where it is met, else what this machine has instead
Requirement = Callable[[Facts], str]


def version_series(lib: str, series: str) -> Requirement:
    """``lib`` installed in the release series ``series`` ('2.13': 2.13.x)."""
    want = Version(series).release

    def req(f: Facts) -> str:
        v = f.version(lib)
        if v and Version(v).release[:len(want)] == want:
            return ""
        return f"{lib} {v}" if v else f"no {lib}"
    req.__doc__ = f"{lib} {series}.x"
    return req


def x86_64(f: Facts) -> str:
    return "" if f.arch in ("x86_64", "AMD64") else f"a CPU of architecture {f.arch}, not x86-64"


def torch_kernels(families: dict) -> Requirement:
    """torch picks, for each '<dtype> <op>' key, a kernel of one of the families given ({'f16 conv': {'aten'}})."""
    def req(f: Facts) -> str:
        k = f.kernels
        bad = [f"{key} on {k.get(key, 'nothing (no torch)')}" for key, fams in families.items()
               if kernel_family(k.get(key, "")) not in fams]
        if not bad:
            return ""
        return (f"an {f.arch} CPU with {f.shown_flags()}, where torch runs {', '.join(bad)}"
                + (" (predicted from the flags)" if f.features_env is not None else ""))
    return req


def gpu_capability(cc: str) -> Requirement:
    def req(f: Facts) -> str:
        have, name, _ = f.gpu
        return "" if have == cc else (f"a GPU of compute capability {have} ({name})" if have else "no CUDA GPU")
    return req


def cudnn_series(series: str) -> Requirement:
    want = Version(series).release

    def req(f: Facts) -> str:
        v = f.gpu[2]
        return "" if v and Version(v).release[:len(want)] == want else (f"cuDNN {v}" if v else "no cuDNN")
    return req


@dataclass(frozen=True)
class Condition:
    """What a claim was measured on (``text``, shown in reports and skip reasons) and the requirements
    checked where it runs.  ``library``: the :attr:`Backend.library` the condition is about (a backend of
    another library -- a wrong twin, an emulation -- is not concerned); '' for every backend."""

    text: str
    requires: tuple
    library: str = ""

    def __post_init__(self):
        if not self.text or not self.requires or not all(callable(r) for r in self.requires):
            raise ValueError(f"Condition({self.text!r}): a condition needs a text and callable requirements")

    def concerns(self, backend) -> bool:
        return backend is None or not self.library or getattr(backend, "library", None) == self.library

    def check(self, f: Facts) -> tuple[bool, str]:
        """(holds, '' or 'not applicable here: measured on ...; this machine has ...')."""
        missing = [m for m in (r(f) for r in self.requires) if m]
        if not missing:
            return True, ""
        return False, f"not applicable here: {self.text}; this machine has {'; '.join(missing)}"


#: claim id -> the condition its verdict was measured under
MEASURED: dict[str, Condition] = {}


def measured(cond: Condition):
    """Decorator over ``@claim(...)``: registers ``cond`` for the claim, whose ``version_note`` must quote
    ``cond.text`` (so that reports show it)."""
    def deco(c):
        if cond.text not in (c.version_note or ""):
            raise ValueError(f"claim {c.id}: version_note must contain its measured condition {cond.text!r}")
        MEASURED[c.id] = cond
        return c
    return deco


def condition_holds(claim_id: str, backend=None, environ=None) -> tuple[bool, str]:
    """Whether claim ``claim_id``'s measured condition holds on this machine (True for a claim without one,
    or a ``backend`` the condition is not about), and if not, why: the skip reason."""
    cond = MEASURED.get(claim_id)
    if cond is None or not cond.concerns(backend):
        return True, ""
    return cond.check(facts(environ))
