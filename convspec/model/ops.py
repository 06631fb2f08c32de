"""The contract's op table: every op's name, kind, spatial rank and array arguments (one place; the
contract, the call forms, the worker and its proxies read it)."""

from __future__ import annotations

RANKS = (1, 2, 3)
CONV_OPS = tuple(f"conv{r}d" for r in RANKS)
TRANSPOSE_OPS = tuple(f"conv_transpose{r}d" for r in RANKS)
INPUT_GRAD_OPS = tuple(f"conv{r}d_input" for r in RANKS)
WEIGHT_GRAD_OPS = tuple(f"conv{r}d_weight" for r in RANKS)
SIGNAL_OPS = ("convolve2d", "correlate2d")
CONTRACT = ("conv2d", "convolve2d", "correlate2d", "conv_transpose2d", "conv2d_input", "conv2d_weight", "conv1d",
            "conv3d", "conv_transpose1d", "conv_transpose3d", "conv1d_input", "conv1d_weight", "conv3d_input",
            "conv3d_weight")
#: the ops of the conv family beyond the forward convs (issue 10); their cases carry a
#: :class:`convspec.model.problem.TransposeProblem` of the op's rank
FAMILY = TRANSPOSE_OPS + INPUT_GRAD_OPS + WEIGHT_GRAD_OPS
#: the array arguments of each op, in order (the names the reports and the protocol use)
LABELS = {**{op: ("x", "w", "b") for op in CONV_OPS + TRANSPOSE_OPS},
          **{op: ("w", "grad_out") for op in INPUT_GRAD_OPS}, **{op: ("x", "grad_out") for op in WEIGHT_GRAD_OPS},
          **{op: ("a", "k") for op in SIGNAL_OPS}}
#: the gradient ops' positional shape argument: (parameter name, position among the positional arguments)
SHAPE_ARGS = {**{op: ("input_shape", 0) for op in INPUT_GRAD_OPS}, **{op: ("weight_shape", 1) for op in WEIGHT_GRAD_OPS}}
assert set(CONTRACT) == set(CONV_OPS + FAMILY + SIGNAL_OPS)


def op_kind(op: str) -> str:
    """'conv', 'transpose', 'input', 'weight' or 'signal'."""
    if op in CONV_OPS:
        return "conv"
    if op in TRANSPOSE_OPS:
        return "transpose"
    if op in INPUT_GRAD_OPS:
        return "input"
    if op in WEIGHT_GRAD_OPS:
        return "weight"
    if op in SIGNAL_OPS:
        return "signal"
    raise KeyError(f"{op!r} is not a contract op ({', '.join(CONTRACT)})")


def op_rank(op: str) -> int:
    """Spatial rank of a conv-family op (2 for the signal ops)."""
    return 2 if op in SIGNAL_OPS else int(op.split("_")[0][-2] if op_kind(op) != "transpose" else op[-2])


def family_op(kind: str, rank: int) -> str:
    """The op name of ``kind`` ('conv', 'transpose', 'input', 'weight') in ``rank`` spatial dims."""
    return {"conv": f"conv{rank}d", "transpose": f"conv_transpose{rank}d", "input": f"conv{rank}d_input",
            "weight": f"conv{rank}d_weight"}[kind]


#: the kinds of op, in the contract's order
KINDS = ("conv", "transpose", "input", "weight", "signal")
#: the data dtypes of each kind's domain.  The conv family (the CNN layer, its transpose and gradients) is
#: defined on real floating-point data: its references, error model and exact regimes are real.  The signal
#: ops follow scipy.signal, which is defined on integer and complex data too (integer results stay integer;
#: correlation conjugates a complex kernel).  A declared ``dtypes`` is intersected with each kind's domain,
#: so ``dtypes=("f64", "c128", "i32")`` tests the convs on f64 and the signal ops on all three.
FLOAT_DTYPES = ("f64", "f32", "f16", "bf16")
KIND_DTYPES = {"conv": FLOAT_DTYPES, "transpose": FLOAT_DTYPES, "input": FLOAT_DTYPES, "weight": FLOAT_DTYPES,
               "signal": FLOAT_DTYPES + ("i8", "i16", "i32", "i64", "c128")}
ALL_DTYPES = KIND_DTYPES["signal"]
