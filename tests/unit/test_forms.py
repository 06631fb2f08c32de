"""Call forms: every layout holds the same values, forms round-trip through text, the strategy
shrinks to the plain form, and the built-in CPU adapters accept every form with bitwise equal results."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given

from convspec.model import forms
from convspec.model.case import Case
from convspec.model.forms import ARG_FORMS, CATALOGUE, LAYOUTS, PLAIN, CallForm, any_forms, apply, arg_in_form, call_forms, layout
from convspec.model.problem import Problem

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("kind", LAYOUTS)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4), (5,), (0, 2), ()])
def test_layout_has_the_same_bits_in_fresh_memory(kind, shape):
    a = RNG.standard_normal(shape).astype(np.float32)
    if a.size:
        a.flat[0] = np.nan
    for ro in (False, True):
        b = layout(a, kind, ro)
        assert b.shape == a.shape and b.dtype == a.dtype
        assert np.ascontiguousarray(b).tobytes() == a.tobytes()
        assert not np.shares_memory(a, b)
        assert b.flags.writeable is (not ro)


def test_layouts_are_what_they_say():
    a = RNG.standard_normal((2, 3, 4, 5))
    assert layout(a, "C").flags.c_contiguous and layout(a, "C").base is None
    f = layout(a, "F")
    assert f.flags.f_contiguous and not f.flags.c_contiguous
    s = layout(a, "step")
    assert not s.flags.c_contiguous and s.base.size > 4 * a.size and s.strides[2:] == (2 * 11 * 8, 2 * 8)
    t = layout(a, "T")
    assert t.strides[1] == a.itemsize and not t.flags.c_contiguous            # stored channels-last
    assert all(st_ < 0 for st_ in layout(a, "neg").strides)
    big = layout(a, "big")
    assert big.flags.c_contiguous and big.base is not None and big.base.size > a.size
    assert big.__array_interface__["data"][0] != big.base.__array_interface__["data"][0]


def test_argument_forms():
    assert arg_in_form((2, 2), "int") == 2 and type(arg_in_form((2, 2), "int")) is int
    assert arg_in_form((2, 3), "int") == (2, 3)
    v = arg_in_form((2, 2), "np")
    assert isinstance(v, np.integer) and v == 2
    assert all(isinstance(t, np.integer) for t in arg_in_form((1, 3), "np"))
    assert arg_in_form((1, 3), "list") == [1, 3] and arg_in_form(4, "tuple") == (4, 4)
    assert arg_in_form("same", "int") == "same"      # not an int or a pair: left alone


def test_apply_builds_fresh_arguments_in_the_form():
    p = Problem.parse("n1c2h5w5_o2k3x3_s2x2_p1x1_d1x1_bias")
    c = Case.seeded(p, 1)
    form = CallForm(stride="int", padding="list", dilation="np", layouts=(("x", "F"), ("w", "neg")), readonly=True)
    args, kw = apply(form, "conv2d", (c.x, c.w, c.b), p.kwargs())
    assert kw["stride"] == 2 and kw["padding"] == [1, 1] and isinstance(kw["dilation"], np.integer)
    assert args[0].flags.f_contiguous and all(s < 0 for s in args[1].strides) and args[2].flags.c_contiguous
    assert not any(a.flags.writeable for a in args)
    for a, b in zip(args, (c.x, c.w, c.b)):
        assert np.array_equal(a, b) and not np.shares_memory(a, b)
    args, kw = apply(None, "conv2d", (c.x, c.w, c.b), p.kwargs())
    assert args[0] is c.x and kw == p.kwargs()


@given(any_forms())
def test_text_round_trip(form):
    assert CallForm.parse(str(form)) == form
    assert " " not in str(form)


def test_parse_rejects_bad_text():
    for bad in ("s=float", "x=Z", "q=int", "s"):
        with pytest.raises(ValueError):
            CallForm.parse(bad)
    assert CallForm.parse("plain") is PLAIN and str(PLAIN) == "plain"


def test_strategies_shrink_to_the_plain_form():
    from hypothesis import find
    assert find(call_forms(), lambda f: True) == PLAIN and find(any_forms(), lambda f: True) == PLAIN
    # a failure that needs an int stride shrinks to exactly that
    assert find(any_forms(), lambda f: f.stride == "int") == CallForm(stride="int")
    assert find(any_forms(), lambda f: f.layout("x") == "neg") == CallForm(layouts=(("x", "neg"),))


def test_the_engine_catalogue_covers_every_form():
    seen = set()
    for f in CATALOGUE:
        seen |= {("ro", f.readonly)} | {(k, getattr(f, k)) for k in ("stride", "padding", "dilation")}
        seen |= {(n, f.layout(n)) for n in ("x", "w", "b", "a", "k")}
    want = {("ro", True)} | {(k, a) for k in ("stride", "padding", "dilation") for a in ARG_FORMS}
    want |= {(n, lay) for n in ("x", "w", "b", "a", "k") for lay in LAYOUTS}
    assert want <= seen, sorted(want - seen)
    assert any(f.layout("x") == lay and f.layout("w") == "C" and f.layout("b") == "C" for f in CATALOGUE
               for lay in LAYOUTS[1:])                                    # one array alone


@pytest.mark.parametrize("name", ["numpy", "numpy-im2col", "scipy", "scipy-fft", "torch", "torch-module",
                                  "torch-unfold", "tf32-emu"])
def test_builtin_adapters_accept_every_form_bitwise(name):
    from convspec.backends.registry import get
    be = get(name)
    dt = "f32" if name == "tf32-emu" else "f64"
    p = Problem.parse(f"n2c4h9w8_o4k3x2_s2x2_p1x1_d2x2_g2_bias_{dt}_flt")
    c = Case.seeded(p, 3)
    f = be.op("conv2d")
    ref = f(c.x, c.w, c.b, **p.kwargs())
    for lay, af, ro in itertools.product(LAYOUTS, ARG_FORMS, (False, True)):
        form = CallForm(stride=af, padding=af, dilation=af, layouts=(("x", lay), ("w", lay), ("b", lay)), readonly=ro)
        args, kw = apply(form, "conv2d", (c.x, c.w, c.b), p.kwargs())
        y = f(*args, **kw)
        assert np.ascontiguousarray(y).tobytes() == np.ascontiguousarray(ref).tobytes(), str(form)


@pytest.mark.parametrize("name", ["numpy", "scipy", "torch"])
def test_builtin_signal_ops_accept_every_layout(name):
    from convspec.backends.registry import get
    be = get(name)
    a, k = RNG.standard_normal((7, 6)), RNG.standard_normal((3, 4))
    for op in ("convolve2d", "correlate2d"):
        ref = be.op(op)(a, k, "same")
        for lay, ro in itertools.product(LAYOUTS, (False, True)):
            args, _ = apply(CallForm(layouts=(("a", lay), ("k", lay)), readonly=ro), op, (a, k), {})
            assert np.array_equal(be.op(op)(*args, mode="same"), ref), (op, lay, ro)


def test_gap_value_is_visible():
    """The parts of a larger buffer outside the view hold GAP, so reading them gives wrong values."""
    s = layout(np.zeros((2, 2)), "step")
    assert (s.base == forms.GAP).sum() == s.base.size - 4
