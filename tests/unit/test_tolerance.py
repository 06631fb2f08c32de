"""The error model: sensitive enough to flag a uniform 3e-6 relative error in float32 at K = 9..100,
exact on integers, and free of false alarms on correct backends."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

from convspec.backends import registry as backends
from convspec.backends.base import Backend, Capabilities
from convspec.claims import REGISTRY, load_builtin
from convspec.drawing import adversarial as adv
from convspec.model.case import Case
from convspec.model.problem import Problem
from convspec.search.engine import run_claim
from convspec.truth import reference as ref
from convspec.truth.oracle import conv_allowed, conv_expect_acc, conv_is_exact
from convspec.truth.tolerance import (
    ACCUMULATIONS,
    BOUND_ENV,
    accumulation_for,
    c_k,
    compare,
    exactness,
    gamma,
    round_to,
    unit_roundoff,
)

load_builtin()


SENS_SHAPES = [(1, 1, False), (1, 1, True), (3, 3, False), (16, 3, True), (16, 7, False), (64, 11, False)]


def _dyadic_cases(c, k, bias, dtype, seeds=4, window=None):
    p = Problem(n=1, c=c, spatial=(k + 3, k + 3), o=2, kernel=(k, k), bias=bias, dtype=dtype, regime="dya")
    if window is not None:
        return [Case.dyadic(p, s, window) for s in range(seeds)]
    return [Case.seeded(p, s) for s in range(seeds)]


@pytest.mark.parametrize(("c", "k", "bias"), SENS_SHAPES)
@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_relative_3e6_error_is_caught_at_every_k(c, k, bias, dtype):
    """Sensitivity through exactness: on dyadic data every correct algorithm is exact, so a uniform
    relative error of 3e-6 is caught at K = 1 .. 7744 (the old probabilistic bound lost it past K~150)."""
    acc = accumulation_for(dtype)
    for case in _dyadic_cases(c, k, bias, dtype):
        assert conv_is_exact(acc, case), case
        y, allowed = conv_expect_acc(acc, case)
        assert compare(round_to(y, dtype), y, allowed).ok                 # the correct result passes
        assert not compare(adv.relative_error(y, 3e-6, dtype), y, allowed).ok, (case.problem, "3e-6 missed")


@pytest.mark.parametrize(("c", "k", "bias"), SENS_SHAPES)
def test_float32_accumulation_of_float64_is_caught_at_every_k(c, k, bias):
    acc = accumulation_for("f64")
    for case in _dyadic_cases(c, k, bias, "f64", window=8):      # within float32's range: no overflow
        y, allowed = conv_expect_acc(acc, case)
        with np.errstate(over="raise", invalid="raise"):
            wrong = adv.sequential_in(np.float32, np.float64)(case.x, case.w, case.b, **case.problem.kwargs())
        assert np.all(np.isfinite(wrong))
        assert not compare(wrong, y, allowed).ok, case.problem


@pytest.mark.parametrize(("c", "k", "bias"), SENS_SHAPES[2:])
def test_fp16_accumulator_is_caught_from_k9(c, k, bias):
    """At K = 1 an fp16 accumulator is the correct algorithm (one product, one rounding); from K = 9
    on it is caught on every seed (benchmarks/sensitivity.py prints the whole table)."""
    acc = accumulation_for("f16")
    for case in _dyadic_cases(c, k, bias, "f16"):
        y, allowed = conv_expect_acc(acc, case)
        wrong = adv.sequential_in(np.float16, np.float16)(case.x, case.w, case.b, **case.problem.kwargs())
        assert not compare(wrong, y, allowed).ok, case.problem
        right = adv.sequential_in(np.float32, np.float16)(case.x, case.w, case.b, **case.problem.kwargs())
        assert compare(right, y, allowed).ok, case.problem


def test_fp16_accumulation_fails_at_k9_on_float_data():
    """The f16/bf16 bound has no input-rounding term (the data are already f16): an fp16-accumulating
    conv at K = 9 is rejected on float data too, not only on dyadic data."""
    assert ACCUMULATIONS["f16"].e_in == 0 and ACCUMULATIONS["bf16"].e_in == 0 and ACCUMULATIONS["tf32"].e_in > 0
    p = Problem(n=2, c=1, spatial=(12, 12), o=4, kernel=(3, 3), dtype="f16", regime="flt")
    rng = np.random.default_rng(0)
    case = Case(p, {"x": np.abs(rng.standard_normal(p.x_shape)).astype(np.float16),
                    "w": np.abs(rng.standard_normal(p.w_shape)).astype(np.float16)})
    y, allowed = conv_expect_acc(accumulation_for("f16"), case)
    wrong = adv.sequential_in(np.float16, np.float16)(case.x, case.w, None, **p.kwargs())
    assert not compare(wrong, y, allowed).ok
    right = adv.sequential_in(np.float32, np.float16)(case.x, case.w, None, **p.kwargs())
    assert compare(right, y, allowed).ok


def test_rigorous_bound_is_the_default(monkeypatch):
    u = unit_roundoff("f32")
    monkeypatch.delenv(BOUND_ENV, raising=False)
    assert c_k(1000, u) == gamma(1000, u)
    monkeypatch.setenv(BOUND_ENV, "probabilistic")
    assert c_k(1000, u) < gamma(1000, u)
    monkeypatch.setenv(BOUND_ENV, "sloppy")
    with pytest.raises(ValueError, match=BOUND_ENV):
        c_k(10, u)


def test_round_to_bf16_has_no_double_rounding():
    """1 + 2**-8 + 2**-30 rounds up to 1 + 2**-7 in bf16 directly; through float32 it would first
    lose 2**-30 and then tie to even (down to 1)."""
    v = np.array([1 + 2.0 ** -8 + 2.0 ** -30])
    assert round_to(v, "bf16")[0] == 1 + 2.0 ** -7


def test_exactness_needs_every_condition():
    acc = ACCUMULATIONS["f32"]
    x, w = np.array([3.0, 5.0]), np.array([7.0, 1.0])
    assert exactness([x, w], 26.0, acc)
    assert not exactness([x, w], 2.0 ** 24, acc)                          # partial sums too wide
    assert not exactness([x * 2.0 ** -70, w * 2.0 ** -70, None], 26 * 2.0 ** -140, acc)   # subnormal products
    assert not exactness([x + 2.0 ** -30, w], 26.0, acc)                  # 32 significant bits
    assert not exactness([x, w], 26.0, accumulation_for("f32", kind="fast"))
    assert exactness([x * 2.0 ** 40, w * 2.0 ** -60, np.array([2.0 ** -20])], 26 * 2.0 ** -20, acc)


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
