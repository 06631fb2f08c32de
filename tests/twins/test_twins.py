"""Every property can fail: each claim is run against a deliberately wrong implementation (its
'twin') and must reject it -- a holds-claim finds a counterexample, a refuted claim finds none, a
conditional claim sees its condition broken."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, settings

from convspec.backends.base import Backend, Capabilities
from convspec.claims import REGISTRY, load_builtin
from convspec.search.engine import run_claim
from tests.conftest import gallery_path

load_builtin()


def _dot_backend(name, fn):
    return Backend(name, {"dot2d": fn}, Capabilities(dtypes=("f64", "f32")), origin="selftest")


INLINE = {
    "dot-elementwise": _dot_backend("dot-elementwise", lambda a, b: np.multiply(a, b)),
    "dot-returns-sum": _dot_backend("dot-returns-sum", lambda a, b: np.sum(np.multiply(a, b))),
    "dot-drops-last-term": _dot_backend("dot-drops-last-term", lambda a, b: np.dot(a[..., :-1], b[:-1])
                                        if a.shape[-1] > 1 else np.dot(a, b)),
}

#: claim id -> the wrong implementation (gallery file or inline backend) it must reject
TWINS = {
    "lecture-patch-sum": "dot_confusion",
    "scipy-answer-example": "dot_confusion",
    "answer-formula-is-convolution": "convolve_no_flip",
    "answer-formula-is-conv-layer": "flipped_kernel",
    "convolution-is-flipped-correlation": "convolve_flip_one_axis",
    "flipped-correlation-same-mode": "same_centring_swapped",
    "symmetric-filter-conv-is-elementwise-sum": "convolve_no_flip",
    "asymmetric-filter-example": "convolve_no_flip",
    "dot-2d-example": "dot-elementwise",
    "dot-2d-is-elementwise-sum": "dot-returns-sum",
    "vec-dot-is-elementwise-sum-is-trace": "dot-drops-last-term",
    "output-is-filter-dot-receptive-field": "bias_wrong_axis",
    "im2col-matmul": "dilation_off_by_one",
    "1x1-conv-is-channel-matmul": "channels_reversed",
    "1x1-conv-keeps-height-width": "pads_1x1",
    "conv-is-sum-of-channel-correlations": "drops_last_channel",
    "fc-layer-is-whole-input-conv": "flipped_kernel",
    "conv-matrix-is-block-toeplitz": "global_mean_leak",
    "lecture-filter-point-symmetric": "dot_confusion",
    "full-convolution-commutes": "convolve_flip_one_axis",
    "correlation-commutes": "correlate_is_convolve",
    "correlation-swap-is-rot180": "correlate_is_convolve",
    "conv2d-matches-definition": "flipped_kernel",
    "convolve2d-matches-definition": "same_centring_swapped",
    "correlate2d-matches-definition": "correlate_forgets_conj",
    "conv2d-crosses-seams": "seam_output_columns_64",
    "convolve2d-crosses-seams": "seam_signal_wide_128",
    "correlate2d-crosses-seams": "seam_signal_wide_128",
    "conv2d-within-bound-on-adversarial-data": "fp16_accumulation",
    "conv2d-propagates-special-values": "sparse_skips_zero_weights",
    "conv2d-accepts-every-call-form": "int_stride_misread",
    "convolve2d-accepts-every-layout": "signal_ignores_strides",
    "correlate2d-accepts-every-layout": "signal_ignores_strides",
    # the conv family (issue 10); conv2d-input-matches-definition and conv2d-bias-grad-is-sum: twins_extra
    "conv-transpose2d-matches-definition": "transpose_forgets_flip",
    "conv-transpose2d-is-adjoint-of-conv2d": "transpose_forgets_flip",
    "conv-transpose2d-is-conv2d-input": "transpose_output_padding_wrong_side",
    "conv2d-weight-matches-definition": "weight_grad_batch_not_summed",
    "conv2d-weight-is-correlation-of-input-and-grad": "weight_grad_batch_not_summed",
}


def detect_only():
    """The profile's settings without the shrink phase: a twin must be rejected; how small the
    counterexample gets is tested elsewhere (test_envelope, test_isolation, test_pitfalls), not here."""
    return settings(settings.default, phases=[ph for ph in settings.default.phases if ph != Phase.shrink])


def twin_backend(name):
    if name in INLINE:
        return INLINE[name]
    if callable(name):
        return name()
    from convspec.backends.base import load_impl
    return load_impl(gallery_path(name))


def register(extra: dict):
    """Other self-test modules add their twins through :mod:`twin_registry` (kept for older callers)."""
    TWINS.update(extra)


from tests.twins.twin_registry import EXTRA  # noqa: E402

from ..integration import test_zoo_frameworks, test_zoo_imaging  # noqa: E402,F401  (the zoo claims' twins)
from . import test_pitfalls, twins_extra, twins_findings, twins_ranks  # noqa: E402,F401  (each registers its twins)

TWINS.update(EXTRA)


def test_every_builtin_claim_has_a_twin():
    missing = sorted(set(REGISTRY) - set(TWINS) - {c for c in REGISTRY if REGISTRY[c].group == "user"})
    assert not missing, f"claims without a wrong twin (a property that cannot be shown to fail): {missing}"


def _twin_params():
    return [pytest.param(cid, t, id=cid) for cid, t in TWINS.items()]


@pytest.mark.parametrize(("claim_id", "twin"), _twin_params())
def test_claim_rejects_its_twin(claim_id, twin):
    claim = REGISTRY[claim_id]
    be = twin_backend(twin)
    from convspec.claims import applicable
    ok, why = applicable(claim, be)
    assert ok, f"the twin of {claim_id} is not applicable: {why}"
    outcome = run_claim(claim, be, detect_only())
    assert not outcome.ok, (f"{claim_id} did not reject its wrong twin {getattr(be, 'name', twin)}: found "
                            f"{outcome.found} over {outcome.examples} examples")
