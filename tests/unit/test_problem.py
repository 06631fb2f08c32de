"""The problem model: descriptors round-trip, the output-shape formula, invalid problems."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convspec.backends.base import Capabilities
from convspec.drawing.strategies import conv_problems, signal_problems
from convspec.errors import DescriptorError
from convspec.model.problem import Problem, SignalProblem, parse_any


@given(conv_problems(Capabilities(dtypes=("f64", "f32", "f16"))))
def test_descriptor_round_trips(p):
    assert Problem.parse(str(p)) == p
    assert parse_any(str(p)) == p


@given(signal_problems(Capabilities()))
def test_signal_descriptor_round_trips(p):
    assert SignalProblem.parse(str(p)) == p


def test_short_descriptor_from_the_issue():
    p = Problem.parse("n2c4h7w9_o6k3x2_s2x1_p1x0_d1x2_g2")
    assert (p.n, p.c, p.spatial, p.o, p.kernel, p.stride, p.pads, p.dilation, p.g) == \
        (2, 4, (7, 9), 6, (3, 2), (2, 1), ((1, 1), (0, 0)), (1, 2), 2)
    assert str(p) == "n2c4h7w9_o6k3x2_s2x1_p1x0_d1x2_g2_nobias_f64_int"
    assert p.y_shape == (2, 6, 4, 7)          # floor((7+2-2-1)/2)+1 = 4, floor((9+0-2-1)/1)+1 = 7


@given(conv_problems(Capabilities()))
def test_output_shape_matches_torch(p):
    import torch
    y = torch.nn.functional.conv2d(torch.zeros(p.x_shape, dtype=torch.float64),
                                   torch.zeros(p.w_shape, dtype=torch.float64), **p.kwargs())
    assert tuple(y.shape) == p.y_shape


@pytest.mark.parametrize("bad", ["n1c3h5w5_o2k3_g2", "n1c1h2w2_o1k5", "x1", "n1c1h1w1_o1k1_f99", "n1c1h1w1_o0k1"])
def test_invalid_descriptors_raise_clear_errors(bad):
    with pytest.raises(DescriptorError):
        parse_any(bad)


@given(st.integers(1, 9), st.integers(1, 9))
def test_signal_shapes(m, q):
    sp = SignalProblem(a=(m, m), k=(q, q), mode="full")
    assert sp.out_shape() == (m + q - 1,) * 2
    assert sp.with_(mode="same").out_shape() == (m, m)
    assert sp.with_(mode="valid").out_shape() == (abs(m - q) + 1,) * 2


def test_the_tuple_fields_are_the_only_spelling():
    """A problem is built, replaced and read through its tuple fields; the per-axis scalar names of earlier
    versions (kh, ph, ...) are no fields, keywords or properties."""
    p = Problem(spatial=(7, 9), kernel=(3, 2), stride=2, pads=((1, 0), (0, 2)))
    assert (p.rank, p.stride, p.dilation, p.out_spatial()) == (2, (2, 2), (1, 1), (3, 5))
    assert p.with_(kernel=(1, 1)).kernel == (1, 1) and p.with_(pads=1).pads == ((1, 1), (1, 1))
    for name in ("h", "w", "kh", "kw", "sh", "ph", "dw", "ekh", "out_hw"):
        assert not hasattr(p, name), name
    with pytest.raises(TypeError):
        Problem(kh=3)
    with pytest.raises(TypeError, match="unknown field 'kh'"):
        p.with_(kh=3)
