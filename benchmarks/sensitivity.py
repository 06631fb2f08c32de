"""Sensitivity through exactness: the smallest uniform relative error the error model catches, per K
and per dtype, on the dyadic regime the strategies draw (convspec/model/case.py), plus whether the classic
systematic errors are caught (float32 accumulation of float64 data; an fp16/bf16 accumulator).

For each (dtype, K) it builds dyadic cases from several seeds (x = m_x 2**e_x, w = m_w 2**e_w, with
the widths the strategies use at that K) and finds the smallest eps = 2**-j such that
round_dtype(y (1 + eps)) is rejected on **every** seed.  Because every correct implementation is
exact on these data, the allowed error is 0 (plus the output's own final rounding for float16 and
bfloat16), so the answer is about one unit of the output format whatever K is.

    python benchmarks/sensitivity.py [--seeds 5] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from convspec.drawing import adversarial as adv  # noqa: E402
from convspec.model.case import Case  # noqa: E402
from convspec.model.problem import Problem  # noqa: E402
from convspec.truth.oracle import conv_expect_acc, conv_is_exact  # noqa: E402
from convspec.truth.tolerance import accumulation_for, compare  # noqa: E402

#: K = C * k * k (+1 with a bias) from 1 to past the largest the strategies draw (64 channels, 11x11)
SHAPES = [(1, 1, False), (1, 1, True), (1, 3, False), (3, 3, False), (16, 3, True), (16, 7, False), (64, 5, False),
          (64, 7, True), (64, 11, False)]
DTYPES = ("f64", "f32", "f16", "bf16")
NARROW = {"f64": (np.float32, "float32 acc"), "f16": (np.float16, "fp16 acc"), "f32": (None, "TF32 inputs"),
          "bf16": (None, "bf16 acc")}


def problem(c, k, bias, dtype):
    return Problem(n=1, c=c, spatial=(k + 3, k + 3), o=2, kernel=(k, k), bias=bias, dtype=dtype, regime="dya")


def caught(case, observed, acc):
    exp, allowed = conv_expect_acc(acc, case)
    return not compare(observed, exp, allowed).ok


def smallest_caught(cases, acc, fmt):
    """Smallest eps = 2**-j (j = 60 .. 1) rejected on every case."""
    best = None
    for j in range(60, 0, -1):
        eps = 2.0 ** -j
        if all(caught(c, adv.relative_error(conv_expect_acc(acc, c)[0], eps, fmt), acc) for c in cases):
            best = eps
            break
    return best


def bf16_acc(case):
    """A bfloat16 accumulator: every partial sum rounded to 8 bits."""
    from convspec.truth.tolerance import round_to
    p = case.problem
    _, xs, ws = adv._terms(case.x, case.w, case.b, **p.kwargs())
    t = round_to(xs * ws, "bf16")
    acc = np.zeros(t.shape[:-1])
    for i in range(t.shape[-1]):
        acc = round_to(acc + t[..., i], "bf16")
    if case.b is not None:
        acc = round_to(acc + case.b.astype(np.float64)[None, :, None], "bf16")
    return acc.reshape(p.y_shape).astype(np.float32)


def tf32_inputs(case):
    """float32 data whose factors are silently rounded to TF32 (11 bits), then summed exactly."""
    from convspec.truth import reference as ref
    from convspec.truth.tolerance import round_to
    p = case.problem
    y = ref.direct(round_to(case.x, "tf32"), round_to(case.w, "tf32"), case.b, **p.kwargs())
    return y.astype(np.float32)


def narrow_caught(cases, dtype, acc):
    kind, _ = NARROW[dtype]
    hits = 0
    for c in cases:
        if dtype == "f64":
            c = Case.dyadic(c.problem, c.seed, window=8)      # float32 range: the error is rounding, not overflow
        if dtype == "bf16":
            y = bf16_acc(c)
        elif dtype == "f32":
            y = tf32_inputs(c)
        else:
            y = adv.sequential_in(kind, c.x.dtype)(c.x, c.w, c.b, **c.problem.kwargs())
        hits += caught(c, y, acc) and bool(np.all(np.isfinite(y)))
    return hits


def table(seeds: int):
    rows = []
    for c, k, bias in SHAPES:
        for dt in DTYPES:
            p = problem(c, k, bias, dt)
            cases = [Case.seeded(p, s) for s in range(seeds)]
            acc = accumulation_for(dt)
            exact = sum(conv_is_exact(acc, cs) for cs in cases)
            eps = smallest_caught(cases, acc, acc.out)
            rows.append((p.k_terms, dt, exact, eps, narrow_caught(cases, dt, acc), len(cases)))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = table(args.seeds)
    ks = sorted({r[0] for r in rows})
    by = {(r[0], r[1]): r for r in rows}
    if args.markdown:
        print("| K | " + " | ".join(f"{dt}: smallest rel. error caught / {NARROW[dt][1]} caught" for dt in DTYPES) + " |")
        print("|---:|" + "---|" * len(DTYPES))
    else:
        print(f"{'K':>6} " + " ".join(f"{dt + ' eps':>12} {NARROW[dt][1]:>13}" for dt in DTYPES))
    for k in ks:
        cells = []
        for dt in DTYPES:
            _, _, exact, eps, narrow, n = by[(k, dt)]
            e = f"2^{int(np.log2(eps))}" if eps else "none"
            cells.append((e, f"{narrow}/{n}", exact == n))
        if args.markdown:
            print(f"| {k} | " + " | ".join(f"{e} / {nn}" for e, nn, _ in cells) + " |")
        else:
            print(f"{k:6d} " + " ".join(f"{e:>12} {nn:>13}" for e, nn, _ in cells))
    print(f"({args.seeds} seeds per cell; every case exact for every correct implementation: "
          f"{all(r[2] == r[5] for r in rows)}; {time.perf_counter() - t0:.1f}s)", file=sys.stderr)


if __name__ == "__main__":
    main()
