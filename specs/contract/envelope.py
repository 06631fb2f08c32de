"""The envelope: the contract claims again, where real kernels branch.

Kernels branch at powers of two -- output tiles of 8-128 rows or columns, channel blocks of 8-64,
batch chunks, specialised kernel sizes 1/3/5/7 with a generic path beyond, shared-memory limits on
the dilated extent -- and a passing gate must vouch for both sides of every seam.  These claims run
the contract's definition check on the large tier only (one or two extents drawn large at a time:
H or W up to 160, C_in/G and C_out/G up to 80, N up to 20, kernels up to 13, dilated extents past
40, strides past the kernel), with one pinned @example per seam value (each power of two from 8 to
128, minus one, itself and plus one).  Every extent is drawn from its minimum upward, so a failure
shrinks to the first problem past its seam.
"""

from __future__ import annotations

from convspec.claims import HOLDS, claim
from convspec.drawing import strategies as S
from convspec.truth.oracle import check_conv, check_signal_modes

SRC = "convspec envelope (issue: kernel seams); benchdnn-style boundary problems"


@claim(id="conv2d-crosses-seams", twin="seam_output_columns_64",
       group="seed", source=SRC, needs={"conv2d"}, expected=HOLDS, requires={"seams"},
       statement="conv2d matches the definition on both sides of every seam where kernels branch: output "
                 "tiles of 8-128, channel blocks of 8-64, batch chunks, kernels past 7, dilated extents past 40",
       cases=S.conv(large_only=True, value_level=False), examples=tuple(S.seam_cases()), budget=0.5)
def _(be, case):
    check_conv(be, case, be.call("conv2d", case))


for _op in ("convolve2d", "correlate2d"):
    claim(id=f"{_op}-crosses-seams", twin="seam_signal_wide_128",
          group="seed", source=SRC, needs={_op}, expected=HOLDS, requires={"seams"},
          statement=f"{_op} matches the definition on outputs past 128 wide and kernels past 11",
          cases=S.signal(large_only=True), examples=tuple(S.signal_seam_cases()),
          budget=0.5)(lambda be, case, _op=_op: check_signal_modes(be, case, (_op,)))
