"""Claims measured under a machine condition (issue 18): the facts, their overrides, and each condition forced
both ways.

Forced false (through ``CONVSPEC_CPU_FEATURES`` / ``CONVSPEC_MACHINE``), a claim is not applicable, with a
reason naming what it was measured on and what this machine has -- through ``claims.applicable``, the path
of the gate, the audit and fuzz, so it is reported not applicable, never failed.  Forced true, the claim
runs and gives its expected verdict: for the CPU half-precision claims that means torch really running its
ATen kernels, so the override goes with oneDNN switched off (``torch.backends.mkldnn.flags(enabled=False)``),
which sends float16/bfloat16 convs to the ATen kernels on every CPU; the prediction from the overridden flags
then agrees with the kernels torch really picks.
"""

from __future__ import annotations

import contextlib
import types
import warnings

import pytest
import torch
from convspec.specs.libraries import cuda as C
from convspec.specs.libraries import library as L
from convspec.specs.libraries import pitfalls as PF
from hypothesis import settings

from convspec.backends import registry as backends
from convspec.backends.base import Backend
from convspec.claims import REGISTRY, applicable, load_builtin
from convspec.errors import MachineOverrideError
from convspec.model import machine as M
from convspec.search.engine import run_claim

load_builtin()

#: every built-in claim that models a library's internals, with the condition it was measured under
INTERNAL = {
    **{cid: PF.AUTO_COND for cid in ("scipy-auto-convolve-float-integers-exact",
                                     "scipy-auto-convolve-int64-exact-below-guard",
                                     "scipy-auto-convolve-int-guard-picks-direct")},
    **{cid: PF.HALF_ATEN for cid in ("torch-cpu-half-conv-transpose-rounds-once",
                                     "torch-cpu-half-conv-transpose-sums-taps-in-half",
                                     "torch-cpu-half-gradients-round-once")},
    **{cid: PF.HALF_FP32_ACC for cid in ("torch-cpu-half-conv-rounds-once", "torch-cpu-half-accumulates-in-fp32")},
    **{cid: L.FFT_COND for cid in ("fft-spreads-nan-direct-does-not", "int64-fft-convolve-is-exact")},
    "torch-cpu-batch-invariant-bitwise": L.BATCH_COND,
    **{cid: C.H100_COND for cid in ("tf32-within-fp32-bound", "tf32-integers-above-2048-exact",
                                    "cudnn-fp32-exact-on-small-integers", "allow-tf32-rounds-every-conv",
                                    "cudnn-tf32-within-fp32-bound-below-tensor-core-shapes")},
}

AVX512_BF16 = "+avx512f,+avx512bw,+avx512vl,+avx512dq,+avx512_vnni,+avx512_bf16"
#: per condition: an environment under which it is false, and one under which it is true, each differing from
#: this machine in what the condition is about (the CPU alone, a release alone, the GPU alone)
FORCED = {
    PF.HALF_ATEN: ({M.ENV_FEATURES: AVX512_BF16}, {M.ENV_FEATURES: "avx2,fma"}),
    PF.HALF_FP32_ACC: ({M.ENV_FEATURES: AVX512_BF16 + ",+avx512_fp16"}, {M.ENV_FEATURES: "avx2,fma"}),
    L.BATCH_COND: ({M.ENV_MACHINE: "torch=2.14.0"}, {M.ENV_MACHINE: "torch=2.13.1"}),
    PF.AUTO_COND: ({M.ENV_MACHINE: "scipy=1.18.0"}, {M.ENV_MACHINE: "scipy=1.17.0"}),
    L.FFT_COND: ({M.ENV_MACHINE: "scipy=1.16.3"}, {M.ENV_MACHINE: "scipy=1.17.1"}),
    C.H100_COND: ({M.ENV_MACHINE: "gpu=8.0; cudnn=9.19.0"}, {M.ENV_MACHINE: "gpu=9.0; cudnn=9.19.0"}),
}

x86_only = pytest.mark.skipif(M.facts().arch not in ("x86_64", "AMD64"),
                              reason=f"the CPU conditions were measured on x86-64; this is {M.facts().arch}")


@contextlib.contextmanager
def onednn(enabled: bool):
    """torch's oneDNN switched on or off for the block (without the warning the switch prints on CPU builds)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "TF32 acceleration on top of oneDNN", UserWarning)
        with torch.backends.mkldnn.flags(enabled=enabled):
            yield


def _backend_of(cond):
    """A built-in backend of the library ``cond`` is about (the torch cuDNN ones exist without a GPU too)."""
    return backends.get({"torch": "torch", "scipy": "scipy", "torch cuDNN": "torch-cuda-tf32"}[cond.library])


# -- the registry -----------------------------------------------------------------------------------------

def test_every_internal_claim_carries_its_condition():
    assert {cid: M.MEASURED.get(cid) for cid in INTERNAL} == INTERNAL
    assert set(M.MEASURED) - set(INTERNAL) <= {c for c in REGISTRY if REGISTRY[c].group == "user"}
    for cid, cond in INTERNAL.items():
        assert cond.text in REGISTRY[cid].version_note, f"{cid}: the report would not show its condition"


def test_measured_refuses_a_claim_whose_note_omits_the_condition():
    fake = types.SimpleNamespace(id="no-note", version_note="torch 2.13")
    with pytest.raises(ValueError, match="version_note must contain"):
        M.measured(PF.HALF_ATEN)(fake)
    assert "no-note" not in M.MEASURED


def test_a_condition_concerns_its_library_only():
    twin = Backend("twin", {}, origin="selftest")       # a wrong twin: library ''
    for cid, cond in INTERNAL.items():
        false_env = FORCED[cond][0]
        assert M.condition_holds(cid, twin, environ=false_env) == (True, "")
        assert not M.condition_holds(cid, _backend_of(cond), environ=false_env)[0]
    assert M.condition_holds("conv2d-matches-definition", environ=FORCED[PF.HALF_ATEN][0]) == (True, "")


# -- facts and overrides -------------------------------------------------------------------------------------

def test_facts_of_this_machine():
    f = M.facts({})
    assert f.version("torch").startswith(torch.__version__.split("+")[0]) and f.overridden == ()
    assert set(f.kernels) == {f"{dt} {op}" for dt in ("f16", "bf16", "f32") for op in M.OPS}
    assert all(M.kernel_family(k) in ("aten", "onednn") for k in f.kernels.values()), f.kernels
    assert f.arch in f.describe() and "torch CPU capability" in f.describe()


@pytest.mark.parametrize(("text", "want"), [
    ("avx2,fma", {"avx2", "fma"}), ("avx2 fma", {"avx2", "fma"}), ("none", set()),
    ("+avx512f,-avx2", "edit"),
])
def test_cpu_features_override(text, want):
    measured = frozenset({"avx2", "sse4_2"})
    got = M.parse_features(text, measured)
    assert got == ({"sse4_2", "avx512f"} if want == "edit" else want)


@pytest.mark.parametrize(("text", "fragment"), [
    ("avx2,+fma", "mixes edits"), ("AVX-512", "'AVX-512' is not a CPU flag"), (" , ", "names no flag"),
    ("avx2;fma", "'avx2;fma' is not a CPU flag"),
])
def test_cpu_features_override_errors_name_the_variable_and_item(text, fragment):
    with pytest.raises(MachineOverrideError, match=M.ENV_FEATURES) as e:
        M.facts({M.ENV_FEATURES: text})
    assert fragment in str(e.value)


@pytest.mark.parametrize(("text", "fragment"), [
    ("torch", "'torch' is not key=value"), ("cuda=12", "unknown key 'cuda'"), ("scipy=one", "'one' is not a version"),
    ("gpu=", "'gpu=' is not key=value"),
])
def test_machine_override_errors_name_the_variable_and_item(text, fragment):
    with pytest.raises(MachineOverrideError, match=M.ENV_MACHINE) as e:
        M.facts({M.ENV_MACHINE: text})
    assert fragment in str(e.value)


def test_empty_override_is_no_override():
    assert M.facts({M.ENV_FEATURES: ""}).cpu_flags == M.facts({}).cpu_flags


def _families(k):
    return {key: M.kernel_family(v) for key, v in k.items() if key.split()[0] in M.HALF}


@pytest.mark.parametrize(("flags", "bf16", "f16"), [
    ({"avx2", "fma"}, "aten", "aten"),
    (M.AVX512_CORE, "onednn", "aten"),                                # AVX-512 without BF16: oneDNN still
    (M.AVX512_CORE | {"avx512_vnni", "avx512_bf16"}, "onednn", "aten"),   # issue 18's CPU
    (M.AVX512_CORE_FP16, "onednn", "onednn"),
    (M.AVX2_VNNI_2, "onednn", "onednn"),
    ({"avx2", "avx_vnni"}, "aten", "aten"),                           # AVX-VNNI alone is not avx2_vnni_2
])
def test_predicted_kernels_follow_torchs_rule(flags, bf16, f16):
    fam = _families(M.predicted_kernels(frozenset(flags), "x86_64", True))
    assert fam == {f"{dt} {op}": {"bf16": bf16, "f16": f16}[dt] for dt in M.HALF for op in M.OPS}
    assert set(_families(M.predicted_kernels(frozenset(flags), "x86_64", False)).values()) == {"aten"}
    assert M.predicted_kernels(frozenset(flags), "aarch64", True) == {}


@x86_only
def test_prediction_agrees_with_the_kernels_torch_picks_here():
    f = M.facts({})
    from convspec.model.machine import _onednn_on
    assert _families(M.predicted_kernels(f.cpu_flags, f.arch, _onednn_on())) == _families(f.kernels)
    with onednn(False):
        assert set(_families(M.facts({}).kernels).values()) == {"aten"}


# -- each condition forced both ways ---------------------------------------------------------------------------

@pytest.mark.parametrize("claim_id", sorted(INTERNAL))
def test_condition_forced_false_is_not_applicable_with_the_reason(claim_id, monkeypatch):
    cond = INTERNAL[claim_id]
    for k, v in FORCED[cond][0].items():
        monkeypatch.setenv(k, v)
    be = _backend_of(cond)
    ok, why = M.condition_holds(claim_id, be)
    assert not ok and why.startswith(f"not applicable here: {cond.text}; this machine has "), why
    ok, reason = applicable(REGISTRY[claim_id], be)                   # the path of the gate, the audit and fuzz
    assert not ok and reason, f"{claim_id} stays applicable with its condition forced false"


@pytest.mark.parametrize("claim_id", sorted(INTERNAL))
def test_condition_forced_true_holds(claim_id, monkeypatch):
    cond = INTERNAL[claim_id]
    if cond.library == "torch" and M.facts({}).arch not in ("x86_64", "AMD64"):
        pytest.skip("the torch CPU conditions were measured on x86-64")
    for k, v in FORCED[cond][1].items():
        monkeypatch.setenv(k, v)
    with onednn(cond is not PF.HALF_ATEN and cond is not PF.HALF_FP32_ACC):
        assert M.condition_holds(claim_id, _backend_of(cond)) == (True, "")


def test_reason_names_the_kernels_torch_would_run():
    why = M.condition_holds("torch-cpu-half-conv-transpose-sums-taps-in-half", backends.get("torch"),
                            environ={M.ENV_FEATURES: AVX512_BF16})[1]
    assert "avx512_bf16" in why and "bf16 conv_transpose on MkldnnTranspose" in why and "predicted" in why
    why = M.condition_holds("scipy-auto-convolve-int-guard-picks-direct", environ={M.ENV_MACHINE: "scipy=1.18.0"})[1]
    assert why.endswith("this machine has scipy 1.18.0"), why


ISSUE_CLAIM = "torch-cpu-half-conv-transpose-sums-taps-in-half"


@x86_only
def test_issue_claim_forced_true_runs_and_holds(monkeypatch):
    """On any x86-64 CPU: the ATen kernels forced (oneDNN off, the flags of an AVX2 CPU), the claim applies and
    holds -- the same property the AVX-512 BF16 machine of issue 18 refuted through oneDNN."""
    monkeypatch.setenv(M.ENV_FEATURES, "avx2,fma")
    be = backends.get("torch")
    with onednn(False):
        assert applicable(REGISTRY[ISSUE_CLAIM], be) == (True, "")
        out = run_claim(REGISTRY[ISSUE_CLAIM], be, settings.default)
    assert out.ok and out.found == "holds", out.message


def test_issue_claim_forced_false_is_reported_not_applicable(monkeypatch):
    """The audit (claims.applicable, as the gate and fuzz use it), with the CPU of issue 18 forced: the claim is
    not applicable on torch, with the condition's reason -- not run, not failed."""
    from convspec import audit
    monkeypatch.setenv(M.ENV_FEATURES, AVX512_BF16)
    res = audit.run([backends.get("torch")], claims_pattern=ISSUE_CLAIM, progress=False)
    assert res.summary() == {"total": 0, "matched": 0, "mismatched": 0, "not_applicable": 1}, res.summary()
    why = res.cells[(ISSUE_CLAIM, "torch")]
    assert why.startswith("not applicable here: measured on an x86-64 AVX2 CPU") and "avx512_bf16" in why, why
