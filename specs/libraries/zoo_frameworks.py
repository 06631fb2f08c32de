"""Claims from the framework audit (issue 20: JAX/XLA, ONNX Runtime, onnx.reference, OpenVINO, torch.compile).

* ``grouped-conv-groups-are-independent``: in a grouped conv, output channel o of group g = o // (C_out / G)
  reads input channels g C/G .. (g + 1) C/G - 1 only (the contract's sum), so a NaN or an Inf put into one group's
  input channels changes no output of another group: those outputs are bitwise those of the same conv without
  the special value.  (An implementation that computes the groups as one dense conv whose kernel is zero off the
  group blocks adds 0 * NaN = NaN into every group: XLA's CPU float64 path does, see
  docs/repros/jax_lax_group_nan.py.)  Data are small integers, so every sum is exact and the comparison is
  bitwise.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec.claims import HOLDS, claim
from convspec.drawing.strategies import conv_problems
from convspec.errors import Mismatch
from convspec.model.case import Case
from convspec.model.problem import Problem

GROUPS_SRC = "convspec contract (grouped conv: y[n, o] sums over group o // (C_out/G)'s channels only); issue 20"


@st.composite
def grouped_special_cases(draw, caps, ranks=(1, 2, 3)):
    """A grouped conv case (G >= 2, float64/float32, small-integer data, a rank out of ``ranks``) whose x holds
    one NaN or Inf in group 0's channels; ``x_clean`` is the same x without it."""
    rank = draw(st.sampled_from(tuple(ranks)))
    dtypes = [d for d in ("f64", "f32") if d in caps.dtypes]
    p = draw(conv_problems(caps, rank=rank, dtypes=dtypes, max_class=2, regimes=("int",))
             .filter(lambda q: q.g >= 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dt = p.np_dtype
    x = rng.integers(-3, 4, p.x_shape).astype(dt)
    w = rng.integers(-3, 4, p.w_shape).astype(dt)
    arrays = {"x": x, "w": w, **({"b": rng.integers(-3, 4, p.b_shape).astype(dt)} if p.bias else {})}
    cg = p.c // p.g
    pos = (draw(st.integers(0, p.n - 1)), draw(st.integers(0, cg - 1)),
           *(draw(st.integers(0, s - 1)) for s in p.x_shape[2:]))
    xs = x.copy()
    xs[pos] = draw(st.sampled_from((np.nan, np.inf, -np.inf)))
    return Case(p, {**arrays, "x": xs, "x_clean": x})


def _cases(be):
    return grouped_special_cases(be.caps, [r for r in (1, 2, 3) if f"conv{r}d" in be.provides] or [2])


def _pinned(dtype):
    p = Problem.parse(f"n1c2h1w2_o2k1x1_g2_{dtype}")
    x = np.zeros(p.x_shape, p.np_dtype)
    w = np.ones(p.w_shape, p.np_dtype)
    xs = x.copy()
    xs[0, 0, 0, 0] = np.nan
    return Case(p, {"x": xs, "w": w, "x_clean": x})


@claim(id="grouped-conv-groups-are-independent", twin="dense_grouped", group="seed", source=GROUPS_SRC, needs={"conv2d"},
       requires={"groups"}, expected=HOLDS,
       statement="In a grouped conv a NaN or Inf in one group's input channels changes no output of another "
                 "group: those outputs are bitwise those of the same conv without it (every rank, f64 and f32)",
       cases=_cases, examples=(_pinned("f64"), _pinned("f32")))
def _(be, case):
    p, op = case.problem, case.problem.op
    y0 = be.call(op, case, args=(case.x_clean, case.w, case.b), kwargs=p.kwargs())
    with np.errstate(invalid="ignore", over="ignore"):
        y1 = be.call(op, case)
    og = p.o // p.g
    other = slice(og, None)                      # every output channel outside group 0
    a, b = np.asarray(y0)[:, other], np.asarray(y1)[:, other]
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    if not same.all():
        i = tuple(int(v) for v in np.argwhere(~same)[0])
        i = (i[0], i[1] + og, *i[2:])
        bad = case.x[np.unravel_index(np.flatnonzero(~np.isfinite(case.x))[0], case.x.shape)]
        raise Mismatch(f"{bad} in group 0's input reached output {i} of group {i[1] // og}: "
                       f"{np.asarray(y1)[i]} where the conv without it gives {np.asarray(y0)[i]}")
