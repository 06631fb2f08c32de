"""Issue 20, the imaging libraries' part: the claim of specs/libraries/zoo_imaging.py holds on scipy and numpy and
rejects its wrong twin (NaN read as zero, named in its declaration), and the imaging zoo modules' shared
cropping (convspec/backends/zoo/_imaging.py) equals scipy.signal's modes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, settings
from scipy import signal

from convspec.backends import registry as backends
from convspec.backends.zoo import _imaging
from convspec.claims import REGISTRY, load_builtin
from convspec.search.engine import run_claim
from tests.conftest import twin_backend

load_builtin()
NAN = "signal-ops-propagate-nan"


def nan_as_zero_twin():
    """The claim's wrong twin (tests/gallery/twins/nan_as_zero.py): NaN read as zero."""
    return twin_backend(REGISTRY[NAN].twin)


@pytest.mark.parametrize("name", ["scipy", "numpy"])
def test_nan_claim_holds_on_the_direct_backends(name):
    out = run_claim(REGISTRY[NAN], backends.get(name))
    assert out.ok and out.found == "holds", out.message


def test_nan_claim_rejects_nan_as_zero():
    out = run_claim(REGISTRY[NAN], nan_as_zero_twin(),
                    settings(settings.default, phases=[Phase.generate], max_examples=40))
    assert not out.ok, out


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("correlate", [False, True])
def test_crop_matches_scipy(mode, correlate):
    rng = np.random.default_rng(0)
    for a_shape, k_shape in [((5, 6), (2, 3)), ((4, 4), (3, 4)), ((2, 3), (4, 5)), ((1, 1), (1, 1))]:
        a, k = rng.integers(-4, 5, a_shape).astype(float), rng.integers(-4, 5, k_shape).astype(float)
        full = signal.correlate2d(a, k, "full") if correlate else signal.convolve2d(a, k, "full")
        want = (signal.correlate2d if correlate else signal.convolve2d)(a, k, mode)
        assert np.array_equal(_imaging.crop(full, a.shape, k.shape, mode, correlate), want)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="mode"):
        _imaging.crop(np.zeros((3, 3)), (2, 2), (2, 2), "circular", False)
    with pytest.raises(ValueError, match="k must be 2-D"):
        _imaging.check2d(np.zeros((2, 2)), np.zeros(3))


@pytest.mark.parametrize("module", ["scikit_image", "dask_image"])
def test_skimage_and_dask_image_adapters_equal_scipy_and_skip_zero_taps(module):
    """Both adapters give scipy.signal's values in every mode on integers; both multiply only the non-zero taps
    (their declared departure), which the NaN claim refutes on its pinned zero-tap case."""
    pytest.importorskip({"scikit_image": "skimage", "dask_image": "dask_image"}[module])
    from convspec.backends import zoo
    from convspec.backends.base import load_impl
    be = load_impl(f"convspec.backends.zoo.{module}")
    be.departures = zoo.departures(module)
    mod = __import__(f"convspec.backends.zoo.{module}", fromlist=["x"])
    rng = np.random.default_rng(3)
    for a_shape, k_shape in [((5, 7), (2, 3)), ((4, 4), (4, 4)), ((2, 3), (4, 5)), ((7, 8), (5, 1))]:
        a, k = rng.integers(-4, 5, a_shape).astype(float), rng.integers(-4, 5, k_shape).astype(float)
        for mode in ("full", "same", "valid"):
            assert np.array_equal(mod.correlate2d(a, k, mode), signal.correlate2d(a, k, mode)), (module, mode)
            assert np.array_equal(mod.convolve2d(a, k, mode), signal.convolve2d(a, k, mode)), (module, mode)
    for seed in range(3):          # the claim's pinned zero-tap case meets it on every seed, at a budget of 2
        out = run_claim(REGISTRY[NAN], be, settings(settings.default, max_examples=2), seed=seed)
        assert out.ok and out.found == "refuted" and np.isnan(out.case.a).any(), out.message
