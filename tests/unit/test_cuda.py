"""The CUDA path: the numba-cuda kernels (on the simulator without a GPU) pass, and deliberately
broken kernels -- tile loads without the halo, an off-by-one bounds guard, no syncthreads between
loading and computing -- are each reported as failures with the problem descriptor."""

from __future__ import annotations

import pytest
from hypothesis import Phase, settings

from convspec.backends import cuda_env
from convspec.claims import REGISTRY, load_builtin
from convspec.search.engine import run_claim

load_builtin()
pytestmark = pytest.mark.cuda


def test_cuda_mode_is_decided():
    assert cuda_env.setup() in ("simulator", "device")


@pytest.mark.parametrize("variant", ["no_halo", "guard_off_by_one", "no_sync"])
def test_broken_kernel_is_caught(variant):
    from convspec.backends.numba_cuda_backend import make_backend
    be = make_backend("tiled", variant)
    # no shrink phase: the question is whether the claim catches the kernel; shrinking on the simulator
    # costs five times the search (79 s against 16 s for no_halo) and is tested on CPU backends
    fast = settings(settings.default, phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target))
    out = run_claim(REGISTRY["conv2d-matches-definition"], be, fast)
    assert not out.ok, f"broken kernel {variant} passed"
    assert out.case is not None and str(out.case.problem) in out.message + out.repro
    assert out.found in ("refuted", "broken")


def test_tile_shapes_follow_the_problem():
    from convspec.backends.numba_cuda_backend import tile_shape
    assert tile_shape(1, 1, sim=True) == (1, 1)
    assert tile_shape(5, 40, sim=True) == (8, 8)
    assert tile_shape(40, 3, sim=False) == (16, 4)


def test_torch_cuda_skip_reason_is_precise():
    from convspec.backends import registry as backends
    be = backends.get("torch-cuda-tf32")
    if be.unavailable:
        assert "would have run F.conv2d on device 'cuda'" in be.unavailable
        assert "TF32 allowed" in be.unavailable


@pytest.mark.parametrize("kind", ["direct", "tiled"])
def test_kernels_leave_read_only_inputs_alone(kind):
    """Inputs go to the device explicitly and only the output comes back: read-only inputs work and are
    never written (a kernel launched on host arrays copies every argument back)."""
    import numpy as np

    from convspec.backends.numba_cuda_backend import make_backend
    rng = np.random.default_rng(0)
    x, w, b = (rng.integers(-3, 4, size=s).astype(np.float32) for s in ((1, 2, 5, 5), (3, 2, 3, 3), (3,)))
    keep = [a.copy() for a in (x, w, b)]
    for a in (x, w, b):
        a.flags.writeable = False
    y = make_backend(kind).op("conv2d")(x, w, b, padding=1)
    from convspec.truth.reference import direct
    assert np.array_equal(y, direct(x, w, b, padding=1).astype(np.float32))
    assert all(np.array_equal(a, k) for a, k in zip((x, w, b), keep))
