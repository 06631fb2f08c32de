"""The contract guard: every way an implementation can misbehave becomes a precise failure."""

from __future__ import annotations

import time

import numpy as np
import pytest

from specs.case import Case
from specs.check import ContractViolation
from specs.contract import Hang, guarded_call
from specs.problem import Problem

P = Problem.parse("n1c1h4w4_o1k3x3_f32")
CASE = Case.seeded(P, 0)
GOOD = np.zeros(P.y_shape, np.float32)


def call(fn, timeout=1.0):
    return guarded_call("impl", "conv2d", fn, Case(P, CASE.copy_arrays()), timeout=timeout)


def test_good_call_passes():
    out, _ = call(lambda x, w, b, **k: GOOD.copy())
    assert out.shape == P.y_shape


@pytest.mark.parametrize(("fn", "needle"), [
    (lambda x, w, b, **k: 1 / 0, "raised ZeroDivisionError"),
    (lambda x, w, b, **k: np.zeros((1, 1, 3, 3), np.float32), "returned shape (1, 1, 3, 3), expected (1, 1, 2, 2)"),
    (lambda x, w, b, **k: GOOD.astype(np.float64), "returned dtype float64, expected float32"),
    (lambda x, w, b, **k: GOOD + np.nan, "returned nan at [0, 0, 0, 0] from finite input"),
    (lambda x, w, b, **k: (x.__setitem__((0, 0, 0, 0), 7), GOOD.copy())[1], "wrote into its input x"),
    (lambda x, w, b, **k: x[:, :, :2, :2], "returned a view of its input x"),
    (lambda x, w, b, **k: GOOD.tolist(), "not a numpy.ndarray"),
])
def test_violations_are_reported_precisely(fn, needle):
    with pytest.raises(ContractViolation) as e:
        call(fn)
    assert needle in str(e.value)
    assert str(P) in str(e.value)


def test_hang_is_cut_by_the_time_limit():
    def spin(x, w, b, **k):
        while True:
            time.sleep(0.01)
    t0 = time.perf_counter()
    with pytest.raises(Hang) as e:
        call(spin, timeout=0.3)
    assert time.perf_counter() - t0 < 5
    assert "hung" in str(e.value)
