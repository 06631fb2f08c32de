"""Claims about memory layouts (issue 10): channels-last implementations, and torch's channels_last format.

* ``conv{r}d-nhwc-is-nchw-transposed`` (an implementation declaring ``layout: "NHWC"``): on integer data its
  channels-last result is the channels-first definition transposed, exactly::

      y_nhwc[n, i..., o] == y[n, o, i...]        (y: the definition, :func:`convspec.truth.reference.direct`)

  Every other claim already runs on such an implementation through :meth:`convspec.backends.base.Backend.call`
  (arrays moved to its layout, the result brought back, :mod:`convspec.model.layout`); this one states the layout
  itself, compares in the implementation's own layout (indices in failure messages are channels last) and
  asks for exact equality, which every direct algorithm meets on small integers.

* ``torch-channels-last-equals-contiguous`` (and its conv3d variant with channels_last_3d): F.conv2d on
  tensors stored channels last gives the result of F.conv2d on contiguous ones -- the same values on
  integer (exact-regime) data, within twice the error model's bound on real floats (each is within the
  bound of the exact result) -- and F.conv2d, when the channel and spatial extents leave the format
  unambiguous, returns a channels-last tensor.  Measured on torch 2.13 CPU (random conv2d problems drawn
  by :func:`convspec.drawing.strategies.conv_cases`): on inexact float data the two differ in the last bits on about
  60 % of float32 and 70 % of float64 problems (worst difference 0.32 of twice the bound), never on exact
  data: equal on integers, not bitwise on floats.  F.conv3d keeps channels_last_3d for few float64
  problems and most float32 ones, so its claim is about values only.

  **No bias.**  With a bias, torch 2.13's oneDNN (v3.12) channels-last float32 conv segfaults when an output
  position's window lies entirely in the padding (BRGEMM conv ``perform_outwork``; pytorch/pytorch#195394,
  uxlfoundation/oneDNN#5942): 38 crashes in 2706 random problems with a bias, each with such a position,
  none in 4054 without; e.g. ``F.conv2d(x (1, 4, 1, 1), w (4, 2, 2, 1) channels_last, b (4,), stride=(1, 2),
  padding=1, dilation=(1, 2), groups=2)`` in float32 crashes every time.  A crash would end the test
  process, so these claims draw no bias (the torch-channels-last backend adds its bias after the conv).

Sources: PyTorch "Channels Last Memory Format" tutorial
(https://pytorch.org/tutorials/intermediate/memory_format_tutorial.html); tf.nn.conv2d data_format docs;
issue 10.
"""

from __future__ import annotations

import numpy as np

from convspec.claims import HOLDS, claim, ranked
from convspec.drawing import strategies as S
from convspec.model import layout
from convspec.model.ops import RANKS
from convspec.truth import reference as ref
from convspec.truth.check import close, equal, holds
from convspec.truth.oracle import check_conv, conv_expect, conv_is_exact

SRC = ("issue 10; tf.nn.conv2d data_format docs; PyTorch channels-last memory format tutorial "
       "(https://pytorch.org/tutorials/intermediate/memory_format_tutorial.html)")


def _nhwc_is_nchw_transposed(be, case):
    p = case.problem
    op = p.op
    got = layout.call_native(be, op, case)              # the implementation's own (channels-last) result
    exact = ref.direct(case.x, case.w, case.b, exact=True, **p.kwargs())    # Python ints, channels first
    want = layout.to_layout_result(op, exact, be.caps).astype(np.float64)
    holds(np.array_equal(want.astype(got.dtype).astype(np.float64), want),
          f"the exact result of {p} does not fit {got.dtype} (the case lies outside the exact regime)")
    a, kw = layout.to_layout(op, (case.x, case.w, case.b), p.kwargs(), be.caps)
    equal(got, want.astype(got.dtype), f"{be.name}.{op} {layout.tag(be.caps)} vs the channels-first definition "
          f"transposed to {be.caps.layout}",
          sides={"x (as passed)": a[0], "w (as passed)": a[1], "observed": got, "definition transposed": want})


for _r in RANKS:
    claim(id=ranked("conv2d-nhwc-is-nchw-transposed", _r), twin="nhwc_channel_axis_misread",
          group="seed", source=SRC, needs={f"conv{_r}d"},
          requires={"nhwc", "direct"}, expected=HOLDS, budget=1.0 if _r == 2 else 0.5,
          statement=f"A channels-last conv{_r}d's result is the channels-first definition transposed "
                    "(y_nhwc[n, i..., o] == y[n, o, i...]), exactly on integer data, with its weights in the layout "
                    "it declares, for every stride, padding, dilation, groups and bias",
          cases=S.conv(rank=_r, regimes=("int",), asymmetric=None))(_nhwc_is_nchw_transposed)


# -- torch's channels_last memory format ----------------------------------------------------------------

def _torch_channels_last(be, case):
    import torch  # lazy: torch is an optional extra (about 3 s to import); only torch backends reach this
    p = case.problem
    r = p.rank
    fn = getattr(be.op("torch.F"), f"conv{r}d")
    fmt = torch.channels_last if r == 2 else torch.channels_last_3d
    x = torch.from_numpy(np.array(case.x, order="C"))
    w = torch.from_numpy(np.array(case.w, order="C"))
    b = None        # a bias can crash the process: see the module docstring
    kw = dict(stride=p.stride, padding=tuple(lo for lo, _ in p.pads), dilation=p.dilation, groups=p.g)
    xc, wc = x.contiguous(memory_format=fmt), w.contiguous(memory_format=fmt)
    y0 = fn(x, w, b, **kw).detach().numpy().copy()
    t1 = fn(xc, wc, b, **kw)
    y1 = t1.detach().numpy().copy()
    if r == 2 and p.c > 1 and np.prod(p.spatial) > 1 and np.prod(t1.shape[2:]) > 1 and t1.shape[1] > 1:
        holds(t1.is_contiguous(memory_format=fmt), f"F.conv{r}d of channels-last tensors returned strides "
              f"{t1.stride()} for shape {tuple(t1.shape)}: not {fmt}")
    what = f"F.conv{r}d on {fmt} tensors vs on contiguous ones"
    sides = {"x": case.x, "w": case.w, "channels last": y1, "contiguous": y0}
    acc = be.accumulation(p.dtype)
    if conv_is_exact(acc, case):
        equal(y1, y0, what, sides=sides)
    else:
        _, allowed = conv_expect(be, case)
        close(y1, y0, 2 * allowed, what + " (each within the bound of the exact result)", sides=sides)
    check_conv(be, case, y1, what=f"F.conv{r}d on {fmt} tensors")


STATEMENT = {
    2: "F.conv2d on tensors stored channels_last returns a channels_last tensor (when C_in, C_out and the spatial "
       "extents exceed 1, so that the format is unambiguous) equal to F.conv2d on contiguous tensors: the same values "
       "on exact (integer) data, within twice the error model's bound otherwise -- not bitwise on floats (no bias: "
       "with one, torch 2.13 CPU can segfault, pytorch/pytorch#195394)",
    3: "F.conv3d on tensors stored channels_last_3d gives the values of F.conv3d on contiguous tensors: the same on "
       "exact (integer) data, within twice the error model's bound otherwise -- not bitwise on floats (the result's "
       "memory format is not promised: torch 2.13 CPU returns most float64 results contiguous; no bias, as for conv2d)",
}

for _r in (2, 3):
    claim(id=ranked("torch-channels-last-equals-contiguous", _r), twin="torch_channels_last_read_as_nchw",
          group="torch", source=SRC, needs={"torch.F"},
          expected=HOLDS, budget=0.5, statement=STATEMENT[_r],
          cases=S.conv(rank=_r, dtypes=("f64", "f32"), bias=False))(_torch_channels_last)
