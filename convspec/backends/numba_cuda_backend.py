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

The conv family (issue 10) on ``numba-cuda-direct``, with no atomics (deterministic):

* ``conv_transpose2d`` -- a *gather*, one thread per output element (n, o, r, q), o in group g = o // (C_out/G)::

      y[n, o, r, q] = b[o] + sum_{c<C_in/G} sum_{u,v} x[n, g C_in/G + c, i, j] * w[g C_in/G + c, o mod C_out/G, u, v]
      where i = (r + pH - u dH) / sH and j = (q + pW - v dW) / sW

  taking only the taps whose numerator is non-negative, divisible by the stride and whose quotient lies
  inside the input (the inverse of the scatter y[i sH + u dH - pH] += x[i] w[u]; the numerator is tested
  for sign before any // or %, so device and Python integer division agree).  Output extent
  H' = (H - 1) sH - 2 pH + dH (kH - 1) + opH + 1.
* ``conv2d_input`` -- that kernel on grad_out with the output_padding that restores ``input_shape``
  (opH = H - ((Ho - 1) sH - 2 pH + dH (kH - 1) + 1), in [0, sH) for a consistent shape).
* ``conv2d_weight`` -- one thread per weight element (o, c, u, v)::

      gw[o, c, u, v] = sum_{n,i,j} grad_out[n, o, i, j] * xp[n, g(o) C/G + c, i sH + u dH, j sW + v dW]

All accumulate in the data dtype, as the forward direct kernel does (accuracy "direct").  Semantics and the
output-size formula: https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html and
torch.nn.grad.conv2d_input / conv2d_weight; the gather form of the transposed conv: Dumoulin & Visin, "A guide
to convolution arithmetic for deep learning" (arXiv:1603.07285), sec. 4.

``make_backend(kind, variant=...)`` builds deliberately broken kernels for the self-tests.  Tiled:
``no_halo`` (tile loads miss the halo), ``guard_off_by_one`` (last block writes one past the end),
``no_sync`` (no syncthreads between loading and computing).  Direct (the family kernels):
``transpose_divisibility`` (i = t // s without checking that s divides t, so taps between the strided
positions read the input), ``transpose_no_flip`` (tap (kH-1-u, kW-1-v) for (u, v): the kernel not rotated),
``weight_no_dilation`` (the weight gradient reads tap offsets u, v instead of u dH, v dW).
"""

from __future__ import annotations

import math

import numpy as np

from convspec.backends import cuda_env
from convspec.backends.base import Backend, Capabilities
from convspec.backends.registry import builtin

MODE = cuda_env.setup()
import numba  # noqa: E402  (after cuda_env decided on the simulator: numba reads it when imported)
from numba import cuda  # noqa: E402

SIM = MODE == "simulator"
TILED_VARIANTS = ("no_halo", "guard_off_by_one", "no_sync")
FAMILY_VARIANTS = ("transpose_divisibility", "transpose_no_flip", "weight_no_dilation")
VARIANTS = ("ok",) + TILED_VARIANTS + FAMILY_VARIANTS


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


# -- the conv family: transposed conv (gather) and the gradients of conv2d (issue 10) -------------------

_FAMILY = {}


def _transpose_kernel(variant="ok"):
    """The gather kernel for conv_transpose2d (see the module docstring), built once per variant."""
    key = ("transpose", variant)
    if key in _FAMILY:
        return _FAMILY[key]
    check_div = variant != "transpose_divisibility"
    flip = variant == "transpose_no_flip"

    @cuda.jit
    def kern(x, w, b, y, sh, sw, ph, pw, dh, dw, groups, has_bias):
        idx = cuda.grid(1)
        n_, o_, ho, wo = y.shape
        if idx >= n_ * o_ * ho * wo:
            return
        ox = idx % wo
        t = idx // wo
        oy = t % ho
        t = t // ho
        o = t % o_
        n = t // o_
        og = w.shape[1]
        kh, kw = w.shape[2], w.shape[3]
        cg = x.shape[1] // groups
        g = o // og
        oo = o - g * og
        h, wd = x.shape[2], x.shape[3]
        acc = b[b.shape[0] - 1]                 # a typed zero
        for c in range(cg):
            ci = g * cg + c
            for u in range(kh):
                tr = oy + ph - u * dh           # may be negative: test the sign before // and %
                if tr >= 0 and (not check_div or tr % sh == 0):
                    i = tr // sh
                    if i < h:
                        for v in range(kw):
                            tc = ox + pw - v * dw
                            if tc >= 0 and (not check_div or tc % sw == 0):
                                j = tc // sw
                                if j < wd:
                                    if flip:
                                        acc += x[n, ci, i, j] * w[ci, oo, kh - 1 - u, kw - 1 - v]
                                    else:
                                        acc += x[n, ci, i, j] * w[ci, oo, u, v]
        if has_bias:
            acc += b[o]
        y[n, o, oy, ox] = acc

    _FAMILY[key] = kern
    return kern


def _weight_kernel(variant="ok"):
    """One thread per weight element: the correlation of the padded input with grad_out over (n, i, j)."""
    key = ("weight", variant)
    if key in _FAMILY:
        return _FAMILY[key]
    dilate = variant != "weight_no_dilation"

    @cuda.jit
    def kern(x, gy, zero, gw, sh, sw, ph, pw, dh, dw, groups):
        idx = cuda.grid(1)
        o_, cg, kh, kw = gw.shape
        if idx >= o_ * cg * kh * kw:
            return
        v = idx % kw
        t = idx // kw
        u = t % kh
        t = t // kh
        c = t % cg
        o = t // cg
        ci = (o // (o_ // groups)) * cg + c
        n_, ho, wo = gy.shape[0], gy.shape[2], gy.shape[3]
        h, wd = x.shape[2], x.shape[3]
        ru = u * dh if dilate else u
        cv = v * dw if dilate else v
        acc = zero[0]
        for n in range(n_):
            for i in range(ho):
                r = i * sh + ru - ph
                if r >= 0 and r < h:
                    for j in range(wo):
                        q = j * sw + cv - pw
                        if q >= 0 and q < wd:
                            acc += gy[n, o, i, j] * x[n, ci, r, q]
        gw[o, c, u, v] = acc

    _FAMILY[key] = kern
    return kern


def _launch(kern, total, *args):
    threads = min(64 if SIM else 256, total)
    kern[math.ceil(total / threads), threads](*args)


def _check_4d(**arrays):
    for name, a in arrays.items():
        if np.ndim(a) != 4:
            raise ValueError(f"{name} must be 4-D, got shape {np.shape(a)}")


def make_conv_transpose2d(variant="ok"):
    def conv_transpose2d(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        """torch.nn.functional.conv_transpose2d: x (N, C_in, H, W), w (C_in, C_out/G, kH, kW), b (C_out,)."""
        x, w = np.asarray(x), np.asarray(w)
        _check_4d(x=x, w=w)
        (sh, sw), (ph, pw), (dh, dw), (oph, opw) = _pair(stride), _pair(padding), _pair(dilation), _pair(output_padding)
        groups = int(groups)
        n, c, h, wd = x.shape
        cw, og, kh, kw = w.shape
        if groups < 1 or c % groups or cw != c:
            raise ValueError(f"conv_transpose2d: x has {c} channels, w {cw} input channels, groups={groups}: "
                             f"need w.shape[0] == C_in, divisible by groups")
        if min(sh, sw, dh, dw) < 1 or min(ph, pw) < 0 or not (0 <= oph < max(sh, dh) and 0 <= opw < max(sw, dw)):
            raise ValueError(f"conv_transpose2d: stride {sh, sw}, dilation {dh, dw} must be >= 1, padding {ph, pw} "
                             f">= 0, output_padding {oph, opw} in [0, max(stride, dilation))")
        ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
        wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
        if ho < 1 or wo < 1:
            raise ValueError(f"conv_transpose2d: output would be {ho}x{wo}")
        if b is not None and np.shape(b) != (og * groups,):
            raise ValueError(f"conv_transpose2d: bias shape {np.shape(b)}, expected ({og * groups},)")
        y = np.zeros((n, og * groups, ho, wo), dtype=x.dtype)
        if y.size == 0:
            return y
        bb = np.append(np.zeros(0) if b is None else b, 0).astype(x.dtype)
        args = _to_device(x, w, bb, y)
        _launch(_transpose_kernel(variant), y.size, *args, sh, sw, ph, pw, dh, dw, groups, b is not None)
        return args[-1].copy_to_host()
    return conv_transpose2d


def make_conv2d_input(variant="ok"):
    ct = make_conv_transpose2d(variant)

    def conv2d_input(input_shape, w, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
        """torch.nn.grad.conv2d_input: the transposed conv of grad_out with the output_padding that restores
        input_shape (N, C_in, H, W); w is conv2d's weight (C_out, C_in/G, kH, kW)."""
        w, gy = np.asarray(w), np.asarray(grad_out)
        _check_4d(w=w, grad_out=gy)
        if len(input_shape) != 4:
            raise ValueError(f"conv2d_input: input_shape must be (N, C, H, W), got {input_shape!r}")
        (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
        kh, kw = w.shape[2:]
        oph = int(input_shape[2]) - ((gy.shape[2] - 1) * sh - 2 * ph + dh * (kh - 1) + 1)
        opw = int(input_shape[3]) - ((gy.shape[3] - 1) * sw - 2 * pw + dw * (kw - 1) + 1)
        if not (0 <= oph < sh and 0 <= opw < sw):
            raise ValueError(f"conv2d_input: grad_out {gy.shape} is not conv2d's output for an input {tuple(input_shape)}"
                             f" (output_padding {oph, opw} outside [0, stride))")
        if gy.shape[0] != int(input_shape[0]) or w.shape[1] * int(groups) != int(input_shape[1]):
            raise ValueError(f"conv2d_input: input_shape {tuple(input_shape)} does not fit w {w.shape}, "
                             f"grad_out {gy.shape}, groups={groups}")
        return ct(gy, w, None, stride=(sh, sw), padding=(ph, pw), output_padding=(oph, opw), groups=groups,
                  dilation=(dh, dw))
    return conv2d_input


def make_conv2d_weight(variant="ok"):
    def conv2d_weight(x, weight_shape, grad_out, *, stride=1, padding=0, dilation=1, groups=1):
        """torch.nn.grad.conv2d_weight: gw (weight_shape = (C_out, C_in/G, kH, kW)) in the dtype of grad_out."""
        x, gy = np.asarray(x), np.asarray(grad_out)
        _check_4d(x=x, grad_out=gy)
        (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
        o, cg, kh, kw = (int(v) for v in weight_shape)
        groups = int(groups)
        if groups < 1 or o % groups or x.shape[1] != cg * groups or gy.shape[:2] != (x.shape[0], o):
            raise ValueError(f"conv2d_weight: x {x.shape}, weight_shape {tuple(weight_shape)}, grad_out {gy.shape}, "
                             f"groups={groups} do not fit together")
        gw = np.zeros((o, cg, kh, kw), dtype=gy.dtype)
        if gw.size == 0:
            return gw
        zero = np.zeros(1, dtype=gy.dtype)
        dx, dgy, dz, dgw = _to_device(x, gy, zero, gw)
        _launch(_weight_kernel(variant), gw.size, dx, dgy, dz, dgw, sh, sw, ph, pw, dh, dw, groups)
        return dgw.copy_to_host()
    return conv2d_weight


def family_ops(variant="ok") -> dict:
    """conv_transpose2d, conv2d_input and conv2d_weight on the CUDA path (``variant``: a broken one)."""
    return {"conv_transpose2d": make_conv_transpose2d(variant), "conv2d_input": make_conv2d_input(variant),
            "conv2d_weight": make_conv2d_weight(variant)}


def caps(sim=SIM, kind="direct") -> Capabilities:
    """Direct sums in the input dtype (accuracy "direct"), on a GPU -- or on the simulator, with smaller
    size bounds and example counts (every thread is a Python thread; the tiled kernel's barriers make
    it about ten times slower there than the direct one)."""
    if sim:
        return Capabilities(dtypes=("f32", "f64"), max_size=9 if kind == "direct" else 5, max_channels=3,
                            max_batch=2, max_kernel=4, examples=0.3 if kind == "direct" else 0.12, timeout=120,
                            gpu=True)
    return Capabilities(dtypes=("f32", "f64"), gpu=True)


def make_backend(kind="tiled", variant="ok") -> Backend:
    """``direct``: conv2d plus the conv family (a variant breaks a family kernel); ``tiled``: conv2d only (a
    variant breaks the tiled kernel)."""
    own = {"direct": FAMILY_VARIANTS, "tiled": TILED_VARIANTS}
    if kind not in own:
        raise ValueError(f"kind={kind!r}: expected 'direct' or 'tiled'")
    if variant != "ok" and variant not in own[kind]:
        raise ValueError(f"variant={variant!r} for kind {kind!r}: expected 'ok' or one of {', '.join(own[kind])}")
    if kind == "direct":
        ops = {"conv2d": conv2d_direct, **family_ops(variant)}
    else:
        ops = {"conv2d": make_conv2d_tiled(variant)}
    suffix = "" if variant == "ok" else f"-{variant}"
    return Backend(f"numba-cuda-{kind}{suffix}", ops, caps(kind=kind), library="numba-cuda " + MODE,
                   version=numba.__version__)


@builtin("numba-cuda-direct")
def _direct():
    return make_backend("direct")


@builtin("numba-cuda-tiled")
def _tiled():
    return make_backend("tiled")
