"""A user claim: add it to the audit and the gate with --claims-module examples/user_claims.py."""

from convspec.claims import HOLDS, claim
from convspec.drawing import strategies
from convspec.truth.check import equal


@claim(id="user-conv-is-linear-in-x", group="user", source="my notes", needs={"conv2d"}, expected=HOLDS,
       statement="conv2d(2x, w) == 2 conv2d(x, w) on small integers",
       cases=strategies.conv(regimes=("int",), bias=False))
def _(be, case):
    y2 = be.call("conv2d", case, args=(2 * case.x, case.w), kwargs=case.problem.kwargs())
    equal(y2, 2 * be.call("conv2d", case), "conv2d(2x, w) vs 2 conv2d(x, w)")
