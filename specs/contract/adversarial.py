"""Adversarial data for the error model: inputs built to maximise rounding error (one large value
among tiny ones, the non-representable constant 0.1, heavy cancellation, mixed huge and tiny
exponents, K up to about 1000; :mod:`convspec.drawing.adversarial`).  A correct implementation stays within the
rigorous bound on all of them; the three inputs that broke the old probabilistic bound are pinned."""

from __future__ import annotations

from hypothesis import strategies as st

from convspec.claims import HOLDS, claim
from convspec.drawing import adversarial as adv
from convspec.truth.oracle import check_conv

SRC = "convspec error model (shared/ERROR-MODEL.md; issue: soundness)"


def _cases(be):
    return st.sampled_from([c for _, c in adv.families(full=True)])


@claim(id="conv2d-within-bound-on-adversarial-data", twin="fp16_accumulation",
       group="seed", source=SRC, needs={"conv2d"}, expected=HOLDS,
       requires={"dtype:f32"},
       statement="float32 conv2d stays within the rigorous error bound on data built to maximise rounding error "
                 "(one large value among tiny ones, 0.1 everywhere, cancellation, mixed exponents, K up to ~1000)",
       cases=_cases, examples=tuple(make() for _, make in adv.ISSUE_CASES), budget=0.5)
def _(be, case):
    check_conv(be, case, be.call("conv2d", case))
