"""Claims about call forms: the result does not depend on how the arguments are passed
(:mod:`convspec.model.forms`: ints, numpy integers, tuples or lists; any memory layout, read-only arrays).

Every example of every claim already passes a drawn form (half of them the plain one); these two
claims draw only non-plain forms, on problems whose every parameter pair is equal (so the int and
numpy-integer forms apply to stride, padding and dilation alike)."""

from __future__ import annotations

from hypothesis import strategies as st

from convspec.claims import HOLDS, claim
from convspec.drawing.strategies import conv_problems, data_for, signal_cases
from convspec.model.case import Case
from convspec.model.forms import any_forms
from convspec.truth.oracle import check_conv, check_signal, signal_call

SOURCE = "convspec contract (README: argument forms and layouts); issue 9"


@st.composite
def square_form_cases(draw, caps):
    """Conv cases with the same size, kernel, stride, padding and dilation on both axes (those of the first),
    in a non-plain call form."""
    p = draw(conv_problems(caps, max_class=2))
    p = p.with_(**{f: (getattr(p, f)[0],) * 2 for f in ("spatial", "kernel", "stride", "pads", "dilation")})
    shapes = [("x", p.x_shape), ("w", p.w_shape)] + ([("b", p.b_shape)] if p.bias else [])
    case = draw(data_for(p, shapes, value_level=False))   # the values do not matter here: shrink the form
    return Case(case.problem, case.arrays, case.seed, form=draw(any_forms(("x", "w", "b"))))


@st.composite
def signal_form_cases(draw, caps):
    case = draw(signal_cases(caps))
    return Case(case.problem, case.arrays, case.seed, form=draw(any_forms(("a", "k"))))


@claim(id="conv2d-accepts-every-call-form", twin="int_stride_misread",
       group="seed", source=SOURCE, needs={"conv2d"}, expected=HOLDS,
       statement="conv2d gives the definition's result (within the error model) whether stride, padding and "
                 "dilation are ints, numpy integers, tuples or lists, and whatever the layout of x, w and b: "
                 "C or Fortran order, strided or transposed views, negative strides, read-only, offset in a "
                 "larger buffer",
       cases=lambda be: square_form_cases(be.caps))
def _(be, case):
    check_conv(be, case, be.call("conv2d", case))


for _op in ("convolve2d", "correlate2d"):
    claim(id=f"{_op}-accepts-every-layout", twin="signal_ignores_strides",
          group="seed", source=SOURCE, needs={_op}, expected=HOLDS,
          statement=f"{_op} gives scipy's result whatever the layout of a and k: C or Fortran order, strided or "
                    "transposed views, negative strides, read-only, offset in a larger buffer",
          cases=lambda be: signal_form_cases(be.caps))(
        lambda be, case, _op=_op: check_signal(be, _op, case, signal_call(be, _op, case)))
