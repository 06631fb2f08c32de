"""The envelope: the search crosses the seams where kernels branch, and a failure found on a large
problem still shrinks to the first problem past its seam (with the data seed fixed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from convspec.backends.base import Capabilities
from convspec.drawing.strategies import LARGE, SEAM_EXTENTS, conv_cases, seam_problems, signal_problems
from convspec.truth import reference as ref
from tests.conftest import gallery_path


def _load(name):
    from convspec.backends.base import load_impl
    return load_impl(gallery_path(name))


def test_seam_problems_cross_every_power_of_two():
    ps = seam_problems()
    wo = {p.out_spatial()[-1] for p in ps}
    ho = {p.out_spatial()[-2] for p in ps}
    assert set(SEAM_EXTENTS) <= wo and set(SEAM_EXTENTS) <= ho
    assert {63, 64, 65} <= {p.c // p.g for p in ps} and {63, 64, 65} <= {p.o for p in ps}
    assert {15, 16, 17} <= {p.n for p in ps}
    assert {11, 13} <= {p.kernel[-2] for p in ps}
    assert max(p.extent[-2] for p in ps) >= 40 and max(p.extent[-1] for p in ps) >= 40
    assert any(p.stride[-2] > p.kernel[-2] for p in ps)


def test_large_tier_reaches_past_every_seam():
    """Within a few hundred draws the large tier crosses 130 columns, 64 channels per group (in and
    out), batch 16, kernel 11 and dilated extent 40."""
    seen = {"w": 0, "cin": 0, "cout": 0, "n": 0, "k": 0, "ext": 0, "stride>k": 0}

    def record(case):
        p = case.problem
        seen["w"] = max(seen["w"], *p.spatial)
        seen["cin"] = max(seen["cin"], p.c // p.g)
        seen["cout"] = max(seen["cout"], p.o // p.g)
        seen["n"] = max(seen["n"], p.n)
        seen["k"] = max(seen["k"], *p.kernel)
        seen["ext"] = max(seen["ext"], *p.extent)
        seen["stride>k"] = max(seen["stride>k"], int(any(s > k for s, k in zip(p.stride, p.kernel))))
        return False

    with pytest.raises(NoSuchExample):   # we only want the draws
        find(conv_cases(Capabilities(dtypes=("f32",)), large_only=True, value_level=False), record,
             settings=settings(max_examples=400, database=None, suppress_health_check=list(HealthCheck),
                               phases=[Phase.generate]))
    assert seen["w"] >= 130 and seen["cin"] >= 64 and seen["cout"] >= 64 and seen["n"] >= 16
    assert seen["k"] >= 11 and seen["ext"] >= 40 and seen["stride>k"] == 1
    assert LARGE["w"] >= 130


@pytest.mark.parametrize(("name", "measure", "expected"), [
    ("seam_output_columns_64", lambda p: p.out_spatial()[-1], 65),
    ("seam_channel_block_32", lambda p: p.c // p.g, 33),
    ("seam_batch_chunk_8", lambda p: p.n, 9),
])
def test_a_seam_bug_shrinks_to_just_past_its_seam(name, measure, expected):
    """Without the pinned seam examples, the search finds the bug on a large problem and shrinks it,
    data seed fixed, to the first problem past the seam."""
    be = _load(name)

    def wrong(case):
        p = case.problem
        y = be.op("conv2d")(case.x, case.w, case.b, **p.kwargs())
        return not np.array_equal(y, ref.direct(case.x, case.w, case.b, **p.kwargs()).astype(y.dtype))

    case = find(conv_cases(Capabilities(dtypes=("f64",)), large_only=True, value_level=False, regimes=("int",)),
                wrong, settings=settings(max_examples=2000, database=None, derandomize=True,
                                         suppress_health_check=list(HealthCheck)))
    assert expected <= measure(case.problem) <= expected + 1, str(case.problem)


def test_signal_large_tier_crosses_130_and_kernel_11():
    seen = [0, 0]

    def record(p):
        seen[0] = max(seen[0], *p.a)
        seen[1] = max(seen[1], *p.k)
        return False

    with pytest.raises(NoSuchExample):
        find(signal_problems(Capabilities(dtypes=("f64",)), large_only=True), record,
             settings=settings(max_examples=300, database=None, phases=[Phase.generate]))
    assert seen[0] >= 130 and seen[1] >= 11
