"""Capability ``output_padding`` (issue 20): "stride-or-dilation", the contract's rule (torch's: below
max(stride, dilation) on each axis), or "stride", ONNX Runtime's and PaddlePaddle's (below the stride only).

A transposed conv that refuses output_padding >= stride is broken under the contract's rule and passes when it
declares "stride"; the declaration narrows what is drawn (the strategies, the covering rows, the pinned
examples) and nothing else: a wrong transposed conv that declares it is still refuted.  A bad value is named."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import Phase, settings

from convspec.backends import registry as backends
from convspec.backends.base import Backend, Capabilities
from convspec.claims import REGISTRY, load_builtin
from convspec.drawing import coverage
from convspec.drawing.strategies import transpose_problems
from convspec.errors import ImplError
from convspec.search.engine import run_claim
from tests.conftest import twin_backend

load_builtin()
DEF = "conv-transpose2d-matches-definition"
BUDGET = settings(settings.default, max_examples=30, deadline=None)
REFUTE = settings(BUDGET, phases=[Phase.explicit, Phase.generate])


def _below_stride_only():
    """numpy's transposed convs, refusing output_padding >= stride as ONNX Runtime does."""
    nb = backends.get("numpy")
    ops = dict(nb.ops)
    for r in (1, 2, 3):
        op = f"conv_transpose{r}d"

        def strict(x, w, b=None, *, stride=1, output_padding=0, _f=ops[op], _r=r, **kw):
            if any(o >= s for o, s in zip(np.broadcast_to(output_padding, _r), np.broadcast_to(stride, _r))):
                raise ValueError(f"output_padding {output_padding} may be too large for stride {stride}")
            return _f(x, w, b, stride=stride, output_padding=output_padding, **kw)
        ops[op] = strict
    return Backend("strict-output-padding", ops, nb.caps, origin="selftest")


def _declaring(be, rule):
    return replace(be, caps=replace(be.caps, output_padding=rule))


def test_the_narrower_rule_passes_when_declared_and_breaks_when_not():
    be = _below_stride_only()
    out = run_claim(REGISTRY[DEF], be, REFUTE)
    assert not out.ok and out.found == "broken" and "may be too large" in out.message, out.message
    out = run_claim(REGISTRY[DEF], _declaring(be, "stride"), BUDGET)
    assert out.ok and out.found == "holds", out.message


def test_the_declaration_still_refutes_a_wrong_transposed_conv():
    wrong = _declaring(twin_backend(REGISTRY[DEF].twin), "stride")
    assert not run_claim(REGISTRY[DEF], wrong, REFUTE).ok


def test_the_declaration_narrows_the_draw_and_the_rows():
    caps = Capabilities(dtypes=("f64",), output_padding="stride")
    from hypothesis import given

    @settings(max_examples=100, deadline=None)
    @given(transpose_problems(caps))
    def draws_below_the_stride(p):
        assert all(o < s for o, s in zip(p.out_pad, p.stride)), p
    draws_below_the_stride()
    rows = coverage.rows("conv_transpose2d", caps)
    assert rows and all(all(o < s for o, s in zip(r.case.problem.out_pad, r.case.problem.stride)) for r in rows)
    wide = coverage.rows("conv_transpose2d", Capabilities(dtypes=("f64",)))
    assert any(any(o >= s for o, s in zip(r.case.problem.out_pad, r.case.problem.stride)) for r in wide)


def test_a_bad_value_is_named():
    with pytest.raises(ImplError, match="output_padding must be 'stride-or-dilation'"):
        Capabilities.from_dict({"output_padding": "dilation"})
    assert "output_padding<stride" in Capabilities.from_dict({"output_padding": "stride"}).summary()
