"""The error model: sensitive enough to flag a uniform 3e-6 relative error in float32 at K = 9..100,
exact on integers, and free of false alarms on correct backends."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

from specs import backends
from specs import reference as ref
from specs.backends import Backend, Capabilities
from specs.case import Case
from specs.claims import REGISTRY, load_builtin
from specs.engine import run_claim
from specs.oracle import conv_allowed
from specs.problem import Problem
from specs.tolerance import ACCUMULATIONS, c_k, compare, gamma, unit_roundoff

load_builtin()


@pytest.mark.parametrize(("c", "k"), [(1, 3), (4, 2), (1, 5), (16, 2), (4, 5)])   # K = 9, 16, 25, 64, 100
def test_relative_3e6_error_is_flagged_in_float32(c, k):
    p = Problem(n=1, c=c, h=8, w=8, o=2, kh=k, kw=k, dtype="f32", regime="flt")
    rng = np.random.default_rng(0)
    case = Case(p, {"x": np.abs(rng.standard_normal(p.x_shape)).astype(np.float32),
                    "w": np.abs(rng.standard_normal(p.w_shape)).astype(np.float32)})
    y = ref.direct(case.x, case.w, **p.kwargs())
    allowed = conv_allowed(ACCUMULATIONS["f32"], case)
    correct = y.astype(np.float32)
    assert compare(correct, y, allowed).ok                       # the correctly rounded result passes
    wrong = (y * (1 + 3e-6)).astype(np.float32)
    assert not compare(wrong, y, allowed).ok, f"3e-6 relative error not flagged at K={p.k_terms}"


def test_bound_coefficient_is_below_50u_at_k100():
    u = unit_roundoff("f32")
    assert c_k(100, u) < 3e-6 < gamma(100, u)      # the worst-case gamma alone could not flag it


def test_exact_regime_is_bit_exact():
    p = Problem.parse("n1c3h6w6_o2k3x3_f32_int")
    case = Case.seeded(p, 0)
    allowed = conv_allowed(ACCUMULATIONS["f32"], case)
    assert np.all(allowed == 0)
    y = ref.direct(case.x, case.w, **p.kwargs()).astype(np.float32)
    y.flat[0] = np.nextafter(y.flat[0], np.float32(np.inf))
    assert not compare(y, ref.direct(case.x, case.w, **p.kwargs()), allowed).ok


def _scaled(factor, dtypes=("f32",)):
    t = backends.get("torch").op("conv2d")
    return Backend(f"torch-times-{factor}", {"conv2d": lambda *a, **k: (t(*a, **k) * np.float32(factor)).astype(
        a[0].dtype)}, Capabilities(dtypes=dtypes), origin="selftest")


def test_search_rejects_a_3e6_relative_error():
    out = run_claim(REGISTRY["conv2d-matches-definition"], _scaled(1 + 3e-6), settings.default)
    assert not out.ok


@pytest.mark.parametrize("name", ["numpy", "numpy-im2col", "torch", "scipy", "scipy-fft"])
def test_no_false_alarm_on_large_float32_problems(name):
    """Correct backends on the largest problems (K up to 16*7*7) with cancellation-free data."""
    be = backends.get(name)
    rng = np.random.default_rng(1)
    worst = 0.0
    for desc in ("n2c16h40w40_o8k7x7_p3x3", "n1c16h24w24_o16k5x5_s2x2", "n3c4h33w17_o4k3x7_d2x1_bias"):
        p = Problem.parse(desc).with_(dtype="f32", regime="flt")
        for flavour in (np.abs, lambda a: a):
            case = Case(p, {"x": flavour(rng.standard_normal(p.x_shape)).astype(np.float32),
                            "w": flavour(rng.standard_normal(p.w_shape)).astype(np.float32),
                            **({"b": rng.standard_normal(p.o).astype(np.float32)} if p.bias else {})})
            y = be.call("conv2d", case)
            c = compare(y, ref.direct(case.x, case.w, case.b, **p.kwargs()),
                        conv_allowed(be.accumulation("f32"), case))
            worst = max(worst, c.ratio)
    assert worst <= 1.0, worst
