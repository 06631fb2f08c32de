"""Hand-written CUDA conv2d kernels through numba-cuda.

* ``numba-cuda-direct`` -- one thread per output element, a direct sum in the input dtype.
* ``numba-cuda-tiled``  -- a 2-D block computes a TY x TX output tile of one (n, o) plane; for each input
  channel the block cooperatively loads the input tile *plus its halo* into shared memory
  (((TY-1)*sH + dH*(kH-1) + 1) x ((TX-1)*sW + dW*(kW-1) + 1) values, zero-filled outside the input),
  synchronises, accumulates, and synchronises again before the next load.

Without a GPU the same source runs on numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1, set by
:mod:`cuda_env` before numba is imported).  Grid, block and dynamic shared-memory sizes are computed
from the problem.  The simulator runs every thread as a Python thread, so its capabilities keep
problems small (same parameter space -- stride, dilation, groups, padding, bias -- smaller extents).

``make_backend(variant=...)`` builds deliberately broken kernels for the self-tests: ``no_halo``
(tile loads miss the halo), ``guard_off_by_one`` (last block writes one past the end), ``no_sync``
(no syncthreads between loading and computing).
"""

from __future__ import annotations

import math

import numpy as np

from . import Backend, Capabilities, builtin, cuda_env

MODE = cuda_env.setup()
from numba import cuda  # noqa: E402  (after cuda_env decided on the simulator)

SIM = MODE == "simulator"
VARIANTS = ("ok", "no_halo", "guard_off_by_one", "no_sync")


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


@cuda.jit
def _direct_kernel(x, w, b, y, sh, sw, ph, pw, dh, dw, groups, has_bias):
    idx = cuda.grid(1)
    n_, o_, ho, wo = y.shape
    if idx >= n_ * o_ * ho * wo:
        return
    j = idx % wo
    t = idx // wo
    i = t % ho
    t = t // ho
    o = t % o_
    n = t // o_
    cg = w.shape[1]
    g = o // (o_ // groups)
    h, wd = x.shape[2], x.shape[3]
    acc = b[b.shape[0] - 1]                 # a typed zero (x[...] * 0 would be NaN for a NaN input)
    for c in range(cg):
        for u in range(w.shape[2]):
            r = i * sh + u * dh - ph
            if r >= 0 and r < h:
                for v in range(w.shape[3]):
                    q = j * sw + v * dw - pw
                    if q >= 0 and q < wd:
                        acc += x[n, g * cg + c, r, q] * w[o, c, u, v]
    if has_bias:
        acc += b[o]
    y[n, o, i, j] = acc


_TILED = {}


def _tiled_kernel(dtype, variant):
    key = (np.dtype(dtype).str, variant)
    if key in _TILED:
        return _TILED[key]
    SD = np.dtype(dtype)
    halo = variant != "no_halo"
    sync = variant != "no_sync"
    slack = 1 if variant == "guard_off_by_one" else 0

    @cuda.jit
    def kern(x, w, b, y, sh, sw, ph, pw, dh, dw, groups, has_bias, ih, iw):
        tile = cuda.shared.array(0, dtype=SD)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        bx, by = cuda.blockDim.x, cuda.blockDim.y
        j = cuda.blockIdx.x * bx + tx
        i = cuda.blockIdx.y * by + ty
        n_, o_, ho, wo = y.shape
        no = cuda.blockIdx.z
        n = no // o_
        o = no % o_
        cg = w.shape[1]
        g = o // (o_ // groups)
        h, wd = x.shape[2], x.shape[3]
        r0 = cuda.blockIdx.y * by * sh - ph           # input row of tile[0, :]
        c0 = cuda.blockIdx.x * bx * sw - pw
        lh = ih if halo else by * sh                  # rows actually loaded
        lw = iw if halo else bx * sw
        acc = b[b.shape[0] - 1]                 # a typed zero (x[...] * 0 would be NaN for a NaN input)
        for c in range(cg):
            k = ty * bx + tx
            while k < ih * iw:                        # cooperative load of tile + halo, zero fill
                rr = k // iw
                cc = k % iw
                r = r0 + rr
                q = c0 + cc
                val = b[b.shape[0] - 1]
                if rr < lh and cc < lw and r >= 0 and r < h and q >= 0 and q < wd:
                    val = x[n, g * cg + c, r, q]
                tile[k] = val
                k += bx * by
            if sync:
                cuda.syncthreads()
            for u in range(w.shape[2]):
                for v in range(w.shape[3]):
                    rr = ty * sh + u * dh
                    cc = tx * sw + v * dw
                    acc += tile[rr * iw + cc] * w[o, c, u, v]
            if sync:
                cuda.syncthreads()
        if has_bias:
            acc += b[o]
        if i < ho + slack and j < wo + slack:
            y[n, o, i, j] = acc

    _TILED[key] = kern
    return kern


def _prepare(x, w, b, stride, padding, dilation, groups):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, ho, wo), dtype=x.dtype)
    bb = np.append(np.zeros(0) if b is None else b, 0).astype(x.dtype)   # the bias, then a typed zero
    return (sh, sw, ph, pw, dh, dw), y, bb, (kh, kw, ho, wo)


def _to_device(x, w, b, y):
    """Explicit transfers: the inputs go to the device once and only the output comes back (a kernel
    called on host arrays copies every argument back, which fails on read-only inputs and would write
    into the caller's arrays)."""
    return tuple(cuda.to_device(np.ascontiguousarray(a)) for a in (x, w, b, y))


def conv2d_direct(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    params, y, bb, _ = _prepare(x, w, b, stride, padding, dilation, groups)
    total = y.size
    if total == 0:
        return y
    threads = min(64 if SIM else 256, total)
    blocks = math.ceil(total / threads)
    args = _to_device(x, w, bb, y)
    _direct_kernel[blocks, threads](*args, *params, groups, b is not None)
    return args[-1].copy_to_host()


def tile_shape(ho, wo, sim=SIM):
    """Output tile (TY, TX): powers of two up to 8x8 on the simulator (threads are Python threads), 16x16 on
    a device, never larger than the output needs."""
    cap = 8 if sim else 16
    return min(cap, 1 << max(0, (ho - 1).bit_length())), min(cap, 1 << max(0, (wo - 1).bit_length()))


def make_conv2d_tiled(variant="ok"):
    def conv2d_tiled(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        params, y, bb, (kh, kw, ho, wo) = _prepare(x, w, b, stride, padding, dilation, groups)
        if y.size == 0:
            return y
        sh, sw, ph, pw, dh, dw = params
        ty, tx = tile_shape(ho, wo)
        ih, iw = (ty - 1) * sh + dh * (kh - 1) + 1, (tx - 1) * sw + dw * (kw - 1) + 1
        grid = (math.ceil(wo / tx), math.ceil(ho / ty), y.shape[0] * y.shape[1])
        kern = _tiled_kernel(x.dtype, variant)
        args = _to_device(x, w, bb, y)
        kern[grid, (tx, ty), 0, ih * iw * x.dtype.itemsize](*args, *params, groups, b is not None, ih, iw)
        return args[-1].copy_to_host()
    return conv2d_tiled


def caps(sim=SIM, kind="direct") -> Capabilities:
    """Direct sums in the input dtype (accuracy "direct"), on a GPU -- or on the simulator, with smaller
    size bounds and example counts (every thread is a Python thread; the tiled kernel's barriers make
    it about ten times slower there than the direct one)."""
    if sim:
        return Capabilities(dtypes=("f32", "f64"), max_size=9 if kind == "direct" else 7, max_channels=3,
                            max_batch=2, max_kernel=4, examples=0.3 if kind == "direct" else 0.12, timeout=120,
                            gpu=True)
    return Capabilities(dtypes=("f32", "f64"), gpu=True)


def make_backend(kind="tiled", variant="ok") -> Backend:
    fn = conv2d_direct if kind == "direct" else make_conv2d_tiled(variant)
    suffix = "" if variant == "ok" else f"-{variant}"
    import numba
    return Backend(f"numba-cuda-{kind}{suffix}", {"conv2d": fn}, caps(kind=kind), library="numba-cuda " + MODE,
                   version=numba.__version__)


@builtin("numba-cuda-direct")
def _direct():
    return make_backend("direct")


@builtin("numba-cuda-tiled")
def _tiled():
    return make_backend("tiled")
