"""The declaration matrix (issue 18, "every declaration works on correct code").

Two correct implementations of the whole family, written as a user would write them --
``examples/numpy_family.py`` (float64 sums, one rounding) and ``examples/torch_family.py`` (a plain
torch.nn.functional / torch.nn.grad wrapper) -- pass the gate under every capability word and value of the
contract: each dtype (each alone for its op kinds; bf16 and complex included), the per-kind dict form,
layout NHWC, weight_layout HWIO, padding_strings, each padding mode, padding_pairs, each accumulate format
(global and per kind), accuracy fast, zero_taps skip, output_padding stride, and nothing declared at all
(probed); ``--isolation`` process and none, and ``--impl-cmd`` (the Python worker server).  A cell is a gate
run (pytester) with the declaration in ``$CONVSPEC_EXAMPLE_CAPS`` (both modules read it at import) and
``--claims`` = the definitional claims plus the claims the words affect; it must end with zero failures and zero
errors.

Words that do not interact share a cell (a dtype alone, one layout, one padding mode, one accumulate
format): fewer gate runs, every word still declared in some cell.  Where torch's arithmetic is not the
contract's default reading, the torch cells declare what torch does (its transposed convs and gradients
sum float16/bfloat16 in the half format: ``accumulate``), as ``convspec/backends/torch_backend.py`` does.

The matrix can fail: ``test_probed_complex_without_conj_is_refuted`` gates a module that declares nothing
and whose correlate2d forgets to conjugate; probing finds c128 and the gate refutes it.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NUMPY = os.path.join(ROOT, "examples", "numpy_family.py")
TORCH = os.path.join(ROOT, "examples", "torch_family.py")
ENV = "CONVSPEC_EXAMPLE_CAPS"

DEF = "*matches-definition"                                   # every op's definitional claim
SIGNAL = "convolve2d-*,correlate2d-*,signal-ops-*"           # the claims an integer-only declaration reaches
LAYOUT = "*nhwc*,conv-transpose*-is-*,*weight-is-correlation*,conv1d-is-conv2d*,conv2d-is-conv3d*"
STRINGS, MODES, PAIRS = "*same-padding-keeps-size", "*padding-mode-is-np-pad", "*padding-pairs-are-np-pad"
SPECIAL = "conv2d-propagates-special-values"
MODES4 = ["zeros", "reflect", "replicate", "circular"]
HALF_SUMS = {f"{k}:{dt}": dt for k in ("transpose", "input", "weight") for dt in ("f16", "bf16")}


def _plugin_args() -> list:
    from importlib import metadata
    installed = any(ep.name == "convspec.plugin" for ep in metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "convspec.plugin"]


PLUGIN = _plugin_args()


def _claims(*globs) -> str:
    return ",".join((DEF,) + globs)


# (id, implementation, declaration, claims, isolation).  Every word of the contract appears in some cell.
CELLS = [
    # -- numpy: float64 sums, one rounding; every dtype of every kind's domain --------------------------
    ("numpy-kinds-f64-c128-nhwc-strings", NUMPY,
     {"dtypes": {"conv": ["f64"], "transpose": ["f64"], "input": ["f64"], "weight": ["f64"], "signal": ["c128"]},
      "layout": "NHWC", "padding_strings": True}, _claims(LAYOUT, STRINGS), "process"),
    ("numpy-f32-hwio-reflect", NUMPY,
     {"dtypes": ["f32"], "weight_layout": "HWIO", "padding_modes": ["zeros", "reflect"]},
     _claims(LAYOUT, MODES), "none"),
    ("numpy-f16-nhwc-hwio-replicate-acc-f16", NUMPY,
     {"dtypes": ["f16"], "layout": "NHWC", "weight_layout": "HWIO", "padding_modes": ["zeros", "replicate"],
      "accumulate": {"f16": "f16"}}, _claims(LAYOUT, MODES), "process"),
    ("numpy-bf16-circular-pairs-acc-f32", NUMPY,
     {"dtypes": ["bf16"], "padding_modes": ["zeros", "circular"], "padding_pairs": True,
      "accumulate": {"bf16": "f32"}}, _claims(MODES, PAIRS), "process"),
    ("numpy-family-dict-i8-per-kind-acc-fast", NUMPY,
     {"dtypes": {"family": ["f16", "bf16"], "signal": ["i8"]}, "accuracy": "fast",
      "accumulate": {"f16": "f32", "bf16": "bf16", "transpose:f16": "f16", "input:f16": "f16",
                     "weight:bf16": "f32"}}, _claims(SPECIAL), "none"),
    ("numpy-i16", NUMPY, {"dtypes": ["i16"]}, SIGNAL, "none"),
    ("numpy-i32", NUMPY, {"dtypes": ["i32"]}, SIGNAL, "none"),
    ("numpy-i64", NUMPY, {"dtypes": ["i64"]}, SIGNAL, "none"),
    ("numpy-nothing-declared", NUMPY, {}, _claims(STRINGS, MODES, PAIRS), "process"),
    ("numpy-f64-f32-zero-taps-skip", NUMPY, {"dtypes": ["f64", "f32"], "zero_taps": "skip"},
     _claims(SPECIAL, "signal-ops-propagate-nan", "grouped-conv-groups-are-independent"), "process"),
    ("numpy-f64-output-padding-stride", NUMPY, {"dtypes": ["f64"], "output_padding": "stride"},
     _claims("conv-transpose*"), "process"),
    # -- torch: a plain wrapper; its half-precision transposes and gradients sum in the half format -------
    ("torch-dict-f64-i16-nhwc-strings", TORCH,
     {"dtypes": {"family": ["f64"], "signal": ["i16"]}, "layout": "NHWC", "padding_strings": True},
     _claims(LAYOUT, STRINGS), "process"),
    ("torch-f32-hwio-reflect", TORCH,
     {"dtypes": ["f32"], "weight_layout": "HWIO", "padding_modes": ["zeros", "reflect"]},
     _claims(LAYOUT, MODES), "none"),
    ("torch-f16-nhwc-hwio-replicate-acc-per-kind", TORCH,
     {"dtypes": ["f16"], "layout": "NHWC", "weight_layout": "HWIO", "padding_modes": ["zeros", "replicate"],
      "accumulate": HALF_SUMS}, _claims(LAYOUT, MODES), "process"),
    ("torch-bf16-circular-pairs-acc-half", TORCH,
     {"dtypes": ["bf16"], "padding_modes": ["zeros", "circular"], "padding_pairs": True,
      "accumulate": {"bf16": "bf16"}}, _claims(MODES, PAIRS), "process"),
    ("torch-family-dict-i8-c128-acc-half-fast", TORCH,
     {"dtypes": {"family": ["f16", "bf16"], "signal": ["i8", "c128"]}, "accuracy": "fast",
      "accumulate": {"f16": "f16", "bf16": "bf16"}}, _claims(SPECIAL), "none"),
    ("torch-i32-i64", TORCH, {"dtypes": ["i32", "i64"]}, SIGNAL, "none"),
    # what a call cannot probe: the half-format sums, and accuracy fast because torch's complex128 conv is not a
    # plain sum (its error exceeds the direct bound, up to 1.03x measured): the rest is probed
    ("torch-only-unprobeable-declared", TORCH, {"accumulate": HALF_SUMS, "accuracy": "fast"},
     _claims(STRINGS, MODES, PAIRS), "process"),
]


@pytest.fixture(scope="module", autouse=True)
def _import_first():
    """In-process runs drop the modules they imported (pytester restores ``sys.modules``), and C extensions
    (numpy.fft, torch) cannot be imported twice: import what the gate and the examples use beforehand."""
    import ml_dtypes  # noqa: F401
    import numpy.fft  # noqa: F401
    import scipy.ndimage  # noqa: F401
    import scipy.signal  # noqa: F401
    import torch  # noqa: F401
    import torch.nn.functional  # noqa: F401

    from convspec.backends import registry as backends  # noqa: F401
    from convspec.claims import load_builtin
    from convspec.search import engine  # noqa: F401
    from convspec.truth import oracle, reference  # noqa: F401
    load_builtin()
    backends.builtin_names()


@pytest.fixture
def gate(pytester, monkeypatch):
    """Run the gate on an implementation with a declaration (None: the module's own) and check nothing failed."""
    for k in list(os.environ):
        if k.startswith("CONVSPEC_"):
            monkeypatch.delenv(k)

    def run(impl_args, caps, claims, *extra, subprocess=False, rows=False):
        if not rows:                      # the covering-array rows of the definitional claims: see the xfail below
            monkeypatch.setenv("CONVSPEC_ROWS", "0")
        if caps is None:
            monkeypatch.delenv(ENV, raising=False)
        else:
            monkeypatch.setenv(ENV, json.dumps(caps))
        args = [*PLUGIN, "-p", "no:cacheprovider", *impl_args, "--backends", "none", "--convspec-profile", "dev",
                "--claims", claims, *extra]
        return pytester.runpytest_subprocess(*args) if subprocess else pytester.runpytest(*args)
    return run


def _passes(r) -> dict:
    """Zero failures and errors, something passed; the outcome counts."""
    out = r.stdout.str()
    counts = r.parseoutcomes()
    assert r.ret == 0 and not counts.get("failed") and not counts.get("errors"), out[-6000:]
    assert counts.get("passed", 0) > 0, out[-3000:]
    return counts


#: the cells the README's test command runs (bf16 and complex under process isolation, a torch cell, nothing
#: declared); every cell runs with CONVSPEC_MATRIX=full (tox -e matrix), ~1-3 min of CPU each
CORE = ()      # bf16 and complex under process isolation run in the test command through --impl-cmd (below)
FULL = os.environ.get("CONVSPEC_MATRIX") == "full"
full_only = pytest.mark.skipif(not FULL, reason="the full declaration matrix: CONVSPEC_MATRIX=full (tox -e matrix)")


@pytest.mark.parametrize("impl, caps, claims, isolation",
                         [pytest.param(*c[1:], marks=() if c[0] in CORE else full_only) for c in CELLS],
                         ids=[c[0] for c in CELLS])
def test_declaration_passes_on_correct_code(gate, impl, caps, claims, isolation):
    r = gate(["--impl", impl], caps, claims, "--isolation", isolation)
    _passes(r)
    out = r.stdout.str()
    line = next((ln for ln in out.splitlines() if ln.startswith("convspec profile: declared: ")), "")
    assert all(f"{k}=" in line for k in caps) and (caps or line.endswith("declared: nothing")), (caps, line)


@full_only
@pytest.mark.parametrize("impl", [NUMPY, TORCH], ids=["numpy", "torch"])
def test_module_declaration_passes_every_claim_under_process_isolation(gate, impl):
    """The modules' own declaration (every word at once, bf16 and complex included), every claim that applies,
    in a subprocess with the default process isolation."""
    r = gate(["--impl", impl], None, "*", subprocess=True)
    _passes(r)




@full_only
def test_module_declaration_passes_the_covering_rows(gate):
    """The numpy family's own declaration with the covering-array rows switched on (the default)."""
    r = gate(["--impl", NUMPY], None, DEF, "--isolation", "none", rows=True)
    _passes(r)


def test_integer_only_declaration_skips_the_family(gate):
    """A declaration of integer dtypes only: the conv family's claims skip (no dtype of their domain), the signal
    ops run."""
    r = gate(["--impl", NUMPY], {"dtypes": ["i32"]}, "conv2d-matches-definition,correlate2d-matches-definition",
             "--isolation", "none")
    r.assert_outcomes(passed=1, skipped=1)


def test_impl_cmd_python_worker_passes(gate):
    """--impl-cmd with the Python worker server (docs/PROTOCOL.md) serving the numpy family: bf16 and complex."""
    cmd = f"{sys.executable} -m convspec.isolation.worker {NUMPY}"
    r = gate(["--impl-cmd", cmd], {"dtypes": ["bf16", "c128"], "layout": "NHWC", "weight_layout": "HWIO"},
             _claims(LAYOUT), subprocess=True)
    _passes(r)


FORGETS_CONJ = '''
"""correlate2d that forgets to conjugate a complex kernel (otherwise the correct numpy family); declares nothing."""
import importlib.util

import numpy as np

_spec = importlib.util.spec_from_file_location("numpy_family_correct", {path!r})
_ok = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ok)
convolve2d = _ok.convolve2d


def correlate2d(a, k, mode="full"):
    return _ok.correlate2d(a, np.conj(k), mode)      # the bug: correlate2d conjugates already, this undoes it
'''.format(path=NUMPY)


def test_probed_complex_without_conj_is_refuted(gate, pytester):
    """A module that declares nothing, with complex-capable signal ops whose correlate2d forgets to conjugate:
    probing finds c128 (named in the header's profile) and the gate refutes correlate2d's definition."""
    pytester.makepyfile(forgets_conj=FORGETS_CONJ)
    r = gate(["--impl", "forgets_conj.py"], None, "correlate2d-matches-definition,convolve2d-matches-definition",
             "--isolation", "none")
    out = r.stdout.str()
    line = next((ln for ln in out.splitlines() if ln.startswith("convspec profile: probed and found: dtypes=")), "")
    assert "c128" in line and "i8" in line, out[:3000]
    assert "convspec profile: declared: nothing" in out, out[:3000]
    r.assert_outcomes(passed=1, failed=1)
    assert "test_claim[correlate2d-matches-definition-" in out and "_c128_" in out, out[-4000:]
