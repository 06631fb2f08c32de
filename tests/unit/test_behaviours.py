"""The cross-library table (convspec/reporting/behaviours.py) tells behaviours apart: each cell reads differently on a
correct implementation and on one that does the other thing (a flipped kernel, the extra 'same' element at
the start, float16 sums, a NaN leaking across groups, an FFT)."""

from __future__ import annotations

import numpy as np
import pytest

from convspec.backends.base import Backend, Capabilities, load_impl
from convspec.backends.registry import get
from convspec.reporting import behaviours as B
from tests.conftest import gallery_path


@pytest.fixture(scope="module")
def numpy_row():
    return B.table([get("numpy")])["numpy"]


def _row(name):
    be = load_impl(gallery_path(name))
    return B.table([be])[be.name]


def test_correct_backend_reads_as_the_contract(numpy_row):
    assert numpy_row["flip"] == "convolve2d: flips; correlate2d: no flip; conv2d: correlation"
    assert numpy_row["same"] == "conv: scipy; corr: scipy; conv2d: extra at end"
    assert numpy_row["output_padding"] == "op<stride: yes, op<dilation: yes"
    assert numpy_row["NaN"] == "0*NaN NaN, group leak no, hole clean"
    assert numpy_row["int exact"] == "exact"


@pytest.mark.parametrize(("gallery", "column", "expected"), [
    ("flipped_kernel", "flip", "conv2d: convolution"),
    ("convolve_no_flip", "flip", "convolve2d: no flip"),
    ("same_extra_at_start", "same", "conv2d: extra at start"),
    ("same_centring_swapped", "same", "conv: starts at"),
    ("sparse_skips_zero_weights", "NaN", "0*NaN dropped"),
])
def test_each_cell_tells_the_other_behaviour_apart(gallery, column, expected):
    assert expected in _row(gallery)[column]


def test_an_fft_in_float32_is_not_exact_on_integers():
    assert "off by" in B.table([get("scipy-fft")])["scipy-fft"]["int exact"]


def test_half_sum_reads_the_accumulator():
    row = B.table([get("torch")])["torch"]
    assert row["f16 sum"] == "fp32" and row["bf16 sum"] == "fp32"
    assert B.table([Backend("f16-sums", {"conv1d": _conv1d_half_sums}, Capabilities(dtypes=("f16",)))])[
        "f16-sums"]["f16 sum"] == "half"


def _conv1d_half_sums(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """A valid, unit-stride conv1d that adds its taps one by one in float16 (the wrong accumulator)."""
    x, w = np.asarray(x), np.asarray(w)
    n, k = x.shape[-1], w.shape[-1]
    y = np.zeros((x.shape[0], w.shape[0], n - k + 1), dtype=np.float16)
    for i in range(n - k + 1):
        for u in range(k):
            y[:, :, i] = (y[:, :, i] + np.float16(x[0, 0, i + u] * w[0, 0, u])).astype(np.float16)
    return y


def test_renderers_carry_every_cell(numpy_row):
    t = {"numpy": numpy_row}
    text = B.render_text(t)
    assert all(len(line) <= 100 for line in text.splitlines())
    md, page = B.render_markdown(t), B.render_html(t)
    for col in B.COLUMNS:
        assert col in md and col in page
