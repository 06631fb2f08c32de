"""Memory layouts (issue 10): the array maps between the contract's order and an implementation's.

The contract is written channels first (NCW / NCHW / NCDHW) with torch's weight order (``OIHW``: the two
channel axes, then the kernel axes).  An implementation may declare other layouts in its
:class:`convspec.backends.base.Capabilities`; :meth:`convspec.backends.base.Backend.call` then passes it its arrays in
those layouts and brings its result back, so that every claim runs unchanged and compares against the
channels-first definition:

``layout``
    ``"NCHW"`` (channels first, the default) or ``"NHWC"`` (channels last).  The names stand for every
    rank: NCW / NWC for conv1d, NCDHW / NDHWC for conv3d.  Activations -- x, grad_out, every result but
    the weight gradient's, and the input gradient's ``input_shape`` -- of rank r + 2 move axis 1 to the
    end::

        to NHWC:   a_nhwc[n, i..., c] = a[n, c, i...]        axes (0, 2, ..., r + 1, 1)
        back:      a[n, c, i...]      = a_nhwc[n, i..., c]   axes (0, r + 1, 1, ..., r)

``weight_layout``
    ``"OIHW"`` (the default: torch's order ``(a, b, k...)``) or ``"HWIO"`` (``(k..., b, a)``: the kernel
    axes first, then the two channel axes reversed).  For the forward conv and its gradients
    (O, C/G, k...) -> (k..., C/G, O), the layout of TF's conv2d filter; for a transposed conv torch's
    (C_in, C_out/G, k...) -> (k..., C_out/G, C_in), the layout of TF's conv2d_transpose filter.  The
    weights w, the weight gradient's ``weight_shape`` and its result follow it::

        to HWIO:   w_hwio[u..., b, a] = w[a, b, u...]        axes (2, ..., r + 1, 1, 0)
        back:      w[a, b, u...]      = w_hwio[u..., b, a]   axes (r + 1, r, 0, ..., r - 1)

The bias (O,) and the signal ops' arrays are never permuted; stride, padding and dilation keep their
(D, H, W) order in every layout.  Each map works on the array's own number of axes, so a claim that
passes a conv1d its 3-D arrays gets them permuted as 1-D ones.

Sources: TensorFlow ``tf.nn.conv2d`` (``data_format`` NHWC / NCHW, filter ``[filter_height, filter_width,
in_channels, out_channels]``) and ``tf.nn.conv2d_transpose`` (filter ``[height, width, output_channels,
in_channels]``) API docs; PyTorch "Channels Last Memory Format" tutorial
(https://pytorch.org/tutorials/intermediate/memory_format_tutorial.html).
"""

from __future__ import annotations

import numpy as np

from convspec.errors import Abort, ContractViolation
from convspec.model.contract import _args, expected_result, guarded_call
from convspec.model.ops import op_kind

#: activation layouts: the default first; each name covers every rank
LAYOUTS = {"NCHW": "channels first (NCW / NCHW / NCDHW): the contract's own order",
           "NHWC": "channels last (NWC / NHWC / NDHWC)"}
#: weight layouts: the default first
WEIGHT_LAYOUTS = {"OIHW": "torch's order (a, b, k...): (O, C/G, k...), or (C_in, C_out/G, k...) transposed",
                  "HWIO": "(k..., b, a): (k..., C/G, O), or (k..., C_out/G, C_in) transposed"}
DEFAULT_LAYOUT, DEFAULT_WEIGHT_LAYOUT = "NCHW", "OIHW"
SHORT = {"NCHW": "channels first", "NHWC": "channels last", "OIHW": "torch's (a, b, k...)", "HWIO": "(k..., b, a)"}
#: rank-specific spellings accepted in a CAPABILITIES dict, and what they mean
ALIASES = {"layout": {"NCW": "NCHW", "NCDHW": "NCHW", "NWC": "NHWC", "NDHWC": "NHWC"},
           "weight_layout": {"OIW": "OIHW", "OIDHW": "OIHW", "WIO": "HWIO", "DHWIO": "HWIO"}}


def normalize(name: str, value, source: str = "Capabilities") -> str:
    """A declared ``layout`` / ``weight_layout`` value as its canonical word; ValueError naming the bad
    value otherwise."""
    known = LAYOUTS if name == "layout" else WEIGHT_LAYOUTS
    if isinstance(value, str):
        value = ALIASES[name].get(value, value)
        if value in known:
            return value
    a, b = known
    same = ", ".join(f"{k}={v}" for k, v in ALIASES[name].items())
    raise ValueError(f"{source}: {name} must be {a!r} or {b!r} ({SHORT[a]} / {SHORT[b]}; also spelled {same}), "
                     f"not {value!r}")


def _layout(caps) -> str:
    return getattr(caps, "layout", DEFAULT_LAYOUT)


def _weight_layout(caps) -> str:
    return getattr(caps, "weight_layout", DEFAULT_WEIGHT_LAYOUT)


def permutes(op: str, caps) -> bool:
    """Whether ``op`` on an implementation with ``caps`` gets any array in another order than the contract's."""
    return op_kind(op) != "signal" and (_layout(caps) != DEFAULT_LAYOUT or _weight_layout(caps) != DEFAULT_WEIGHT_LAYOUT)


def tag(caps) -> str:
    """``(layout NHWC, weights HWIO)``: what error messages append."""
    return f"(layout {_layout(caps)}, weights {_weight_layout(caps)})"


# -- the permutations --------------------------------------------------------------------------------

def activation_axes(ndim: int) -> tuple:
    """NC... -> N...C: (0, 2, ..., ndim - 1, 1)."""
    return (0, *range(2, ndim), 1) if ndim >= 2 else tuple(range(ndim))


def weight_axes(ndim: int) -> tuple:
    """(a, b, k...) -> (k..., b, a): (2, ..., ndim - 1, 1, 0)."""
    return (*range(2, ndim), 1, 0) if ndim >= 2 else tuple(range(ndim))


def inverse(axes) -> tuple:
    return tuple(int(i) for i in np.argsort(axes))


def _role_axes(role: str, ndim: int, caps, back: bool = False):
    """The axes permutation of an argument with role 'act' or 'weight' (None: left alone)."""
    if role == "act" and _layout(caps) == "NHWC":
        ax = activation_axes(ndim)
    elif role == "weight" and _weight_layout(caps) == "HWIO":
        ax = weight_axes(ndim)
    else:
        return None
    return inverse(ax) if back else ax


def _permute_array(a, role, caps):
    ax = _role_axes(role, np.ndim(a), caps) if isinstance(a, np.ndarray) else None
    return a if ax is None else np.ascontiguousarray(np.transpose(a, ax))


def _permute_shape(s, role, caps):
    if s is None or isinstance(s, (str, bytes)):
        return s
    try:
        s = tuple(int(v) for v in s)
    except TypeError:
        return s
    ax = _role_axes(role, len(s), caps)
    return s if ax is None else tuple(s[i] for i in ax)


#: per op kind: the role of each positional argument ('act', 'weight', 'act_shape', 'weight_shape', None)
ROLES = {"conv": ("act", "weight", None), "transpose": ("act", "weight", None),
         "input": ("act_shape", "weight", "act"), "weight": ("act", "weight_shape", "act"), "signal": ()}
#: the same by keyword
KEYWORD_ROLES = {"x": "act", "grad_out": "act", "w": "weight", "input_shape": "act_shape",
                 "weight_shape": "weight_shape"}
#: the role of each op kind's result
RESULT_ROLE = {"conv": "act", "transpose": "act", "input": "act", "weight": "weight", "signal": None}


def _convert(role, v, caps):
    if role in ("act", "weight"):
        return _permute_array(v, role, caps)
    if role in ("act_shape", "weight_shape"):
        return _permute_shape(v, {"act_shape": "act", "weight_shape": "weight"}[role], caps)
    return v


def to_layout(op: str, args, kwargs, caps):
    """(args, kwargs) of a contract call of ``op`` as the implementation receives them: x and grad_out in
    ``caps.layout``, w in ``caps.weight_layout`` (C-contiguous copies), the input gradient's
    ``input_shape`` / the weight gradient's ``weight_shape`` permuted like the array they describe; the
    bias, stride/padding/dilation and anything else as given.  Signal ops are returned unchanged."""
    kind = op_kind(op)
    roles = ROLES[kind]
    out = tuple(_convert(roles[i] if i < len(roles) else None, a, caps) for i, a in enumerate(args))
    kw = {k: (_convert(KEYWORD_ROLES.get(k), v, caps) if kind != "signal" else v) for k, v in dict(kwargs or {}).items()}
    return out, kw


def expected_in_layout(op: str, shape, caps) -> tuple:
    """The result shape the implementation must return for the contract's result ``shape`` (channels first,
    OIHW): an activation (every op but the weight gradient) in ``caps.layout``, the weight gradient in
    ``caps.weight_layout``; a signal op's shape unchanged."""
    role = RESULT_ROLE[op_kind(op)]
    return tuple(shape) if role is None else _permute_shape(shape, role, caps)


def from_layout(op: str, out, caps) -> np.ndarray:
    """The implementation's result of ``op`` brought back to the contract's order (the inverse permutation
    of :func:`expected_in_layout`), as a new C-contiguous array: a claim may change it freely without
    touching the memory the implementation returned (which the guard watches)."""
    role = RESULT_ROLE[op_kind(op)]
    ax = None if role is None else _role_axes(role, np.ndim(out), caps, back=True)
    return np.array(out if ax is None else np.transpose(out, ax), order="C", copy=True)


def to_layout_result(op: str, y, caps) -> np.ndarray:
    """A contract-order result (e.g. the definition's) in the implementation's layout, for comparisons made
    in that layout: the permutation of :func:`expected_in_layout`."""
    role = RESULT_ROLE[op_kind(op)]
    ax = None if role is None else _role_axes(role, np.ndim(y), caps)
    return np.array(y if ax is None else np.transpose(y, ax), order="C", copy=True)


# -- the guarded call in the implementation's layout ---------------------------------------------------

def call_native(be, op: str, case, *, args=None, kwargs=None, expect=None):
    """Run ``be``'s ``op`` under :func:`convspec.model.contract.guarded_call` on the contract-order call (the case's,
    or ``args``/``kwargs``/``expect``) moved to ``be.caps``' layouts; the result as the implementation
    returned it (in its layout).  A failure of the guard names the layouts."""
    __tracebackhide__ = True
    if args is None:
        args, kwargs = _args(op, case)
    shape, dtype = expect if expect is not None else expected_result(op, case)
    a, kw = to_layout(op, args, kwargs, be.caps)
    try:
        out, _ = guarded_call(be.name, op, be.ops[op], case, timeout=be.caps.timeout, args=a, kwargs=kw,
                              expect=(expected_in_layout(op, shape, be.caps), dtype))
    except (ContractViolation, Abort) as e:
        _annotate(e, be.caps)
        raise
    return out


def _annotate(e: BaseException, caps):
    if e.args and isinstance(e.args[0], str) and not e.args[0].endswith(tag(caps)):
        e.args = (f"{e.args[0]} {tag(caps)}",) + tuple(e.args[1:])
