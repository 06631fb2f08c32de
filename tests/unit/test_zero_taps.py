"""Capability ``zero_taps`` (issue 20: "let a backend declare the weaker behaviour"): "multiply", the contract's
reading (a zero weight times NaN or Inf is a NaN term), or "skip", a sparse filter's (a zero weight is no term).

Each reading passes the implementation that follows it and refutes the one that follows the other, on both
special-value claims (conv2d's and the signal ops' NaN claim); under "skip" the claims still refute NaN read as
zero.  A bad value is named."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import Phase, settings

from convspec.backends import registry as backends
from convspec.backends.base import Backend, Capabilities, load_impl
from convspec.claims import REGISTRY, load_builtin
from convspec.errors import ImplError
from convspec.search.engine import run_claim
from tests.conftest import gallery_path, twin_backend

load_builtin()
SPECIAL, NAN = "conv2d-propagates-special-values", "signal-ops-propagate-nan"
BUDGET = settings(settings.default, max_examples=40, deadline=None)
REFUTE = settings(BUDGET, phases=[Phase.explicit, Phase.generate])       # a refutation, not shrunk


def _declaring(be: Backend, zero_taps: str) -> Backend:
    return replace(be, caps=replace(be.caps, zero_taps=zero_taps))


def test_a_sparse_conv_passes_when_it_declares_skip_and_fails_when_it_does_not():
    sparse = load_impl(gallery_path("sparse_skips_zero_weights"))
    assert not run_claim(REGISTRY[SPECIAL], sparse, REFUTE).ok
    out = run_claim(REGISTRY[SPECIAL], _declaring(sparse, "skip"), BUDGET)
    assert out.ok and out.found == "holds", out.message


def test_a_dense_conv_that_declares_skip_is_refuted():
    out = run_claim(REGISTRY[SPECIAL], _declaring(backends.get("numpy"), "skip"), REFUTE)
    assert not out.ok and out.found == "refuted", out.message


def test_the_signal_nan_claim_follows_the_declaration():
    pytest.importorskip("dask_image")
    sparse = load_impl("convspec.backends.zoo.dask_image")                      # scipy.ndimage per block
    assert not run_claim(REGISTRY[NAN], sparse, REFUTE).ok                       # the contract's reading
    out = run_claim(REGISTRY[NAN], _declaring(sparse, "skip"),                  # the sparse filter's (a dask
                    settings(BUDGET, max_examples=20))                          # graph per call: fewer examples)
    assert out.ok, out.message
    assert not run_claim(REGISTRY[NAN], _declaring(backends.get("scipy"), "skip"), REFUTE).ok
    assert not run_claim(REGISTRY[NAN], _declaring(twin_backend("nan_as_zero"), "skip"), REFUTE).ok


def test_scikit_image_follows_neither_reading():
    """correlate_sparse skips zero taps but always multiplies the corner tap (0, 0), zero or not."""
    pytest.importorskip("skimage")
    sk = load_impl("convspec.backends.zoo.scikit_image")
    assert not run_claim(REGISTRY[NAN], sk, REFUTE).ok
    out = run_claim(REGISTRY[NAN], _declaring(sk, "skip"), REFUTE)
    assert not out.ok and "NaN at" in out.message, out.message


def test_a_bad_value_is_named():
    with pytest.raises(ImplError, match="zero_taps must be 'multiply'"):
        Capabilities.from_dict({"zero_taps": "sometimes"})
    assert Capabilities.from_dict({"zero_taps": "skip"}).zero_taps == "skip"
    assert "zero_taps=skip" in Capabilities.from_dict({"zero_taps": "skip"}).summary()
