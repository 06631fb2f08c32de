"""Wrong twins of the library claims: each replaces the audited library function with a plausible
wrong version, and the claim must notice."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF
from scipy import ndimage, signal

from convspec.backends import registry as backends
from convspec.backends.base import Backend
from tests.twins.twin_registry import register


class FakeF:
    """torch.nn.functional with some functions replaced."""

    def __init__(self, **over):
        self.over = over

    def __getattr__(self, name):
        return self.over.get(name) or getattr(TF, name)


def _be(name, ops, base="torch", caps=None):
    b = backends.get(base)
    return lambda: Backend(name, {**b.ops, **ops}, caps or b.caps, origin="selftest")


def same_extra_at_start(x, w, b=None, *, dilation=1):
    d = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    th, tw = d[0] * (w.shape[2] - 1), d[1] * (w.shape[3] - 1)
    xp = np.pad(x, ((0, 0), (0, 0), (th - th // 2, th // 2), (tw - tw // 2, tw // 2)))
    return TF.conv2d(torch.from_numpy(xp), torch.from_numpy(w), dilation=d).numpy()


def conv1d_same_is_np_correlate(x, w, padding=0, **kw):
    """A conv1d whose padding='same' is np.correlate's 'same' (numpy's centring for even kernels, numpy's
    max(M, N) length for kernels longer than the signal): agrees with numpy everywhere, so the claim's
    outside search, which covers both halves, must find nothing."""
    if padding == "same":
        out = np.correlate(x[0, 0].numpy(), w[0, 0].numpy(), "same")
        return torch.from_numpy(np.ascontiguousarray(out))[None, None]
    return TF.conv1d(x, w, padding=padding, **kw)


def np_pad_swapped(a, p, mode):
    mode = {"reflect": "symmetric", "symmetric": "reflect"}.get(mode, mode)
    return np.pad(a, p, mode=mode)


def pad_never_raises(x, pad, mode="constant", value=None):
    if mode == "reflect":
        p = pad[0]
        return torch.from_numpy(np.pad(x.numpy(), ((0, 0), (0, 0), (p, p), (p, p)), mode="reflect"))
    return TF.pad(x, pad, mode=mode)


def fft_in_float32(a, k, mode="full"):
    return signal.fftconvolve(a.astype(np.float32), k.astype(np.float32), mode).astype(np.float64)


def direct_only(a, k, mode="full", method="auto"):
    return signal.convolve(a, k, mode, method="direct")


def direct_via_float(a, k, mode="full", method="auto"):
    r = signal.convolve(a.astype(np.float64), k.astype(np.float64), mode, method="direct")
    return np.round(r).astype(np.int64) if method == "direct" else signal.convolve(a, k, mode, method=method)


def np_convolve_promotes(a, v, mode="full"):
    return np.convolve(a.astype(np.int64), v.astype(np.int64), mode)


def convolve2d_saturates(a, k, mode="full"):
    return np.clip(signal.convolve2d(a.astype(np.int64), k.astype(np.int64), mode), -128, 127).astype(np.int8)


def correlate_no_conj(a, v, mode="valid"):
    return np.convolve(a, v[::-1], mode)


def conv2d_conjugates(x, w, *a, **k):
    return TF.conv2d(x, torch.conj(w).resolve_conj(), *a, **k)


def conv_per_sample(x, w, b=None, **kw):
    t = backends.get("torch").op("conv2d")
    return np.concatenate([t(np.ascontiguousarray(x[i:i + 1]), w, b, **kw) for i in range(x.shape[0])])


def conv_batch_drift(x, w, b=None, **kw):
    y = backends.get("torch").op("conv2d")(x, w, b, **kw)
    y[1:] *= np.float32(1 + 1e-3)
    return y


def conv_half_acc16(x, w, dtype):
    from convspec.truth.reference import _taps, problem_of
    p = problem_of(x, w)
    acc = np.float16 if dtype == "f16" else np.float32
    y = np.zeros(p.y_shape, dtype=acc)
    for u, v, win in _taps(x.astype(np.float32), p):
        y = (y.astype(np.float32) + np.einsum("nchw,oc->nohw", win, w[:, :, u, v].astype(np.float32))).astype(acc)
        if dtype == "bf16":
            from convspec.model.case import round_significand
            y = round_significand(y, 8)
    return y.astype(np.float32)


def unfold_rows_ijc(x, k, **kw):
    cols = TF.unfold(x, k, **kw)
    n, ckk, L = cols.shape
    kh, kw_ = k
    c = ckk // (kh * kw_)
    return cols.reshape(n, c, kh * kw_, L).transpose(1, 2).reshape(n, ckk, L)


def fold_doubled(cols, out, k, **kw):
    return 2 * TF.fold(cols, out, k, **kw)


def conv_transpose_flipped(y, w, **kw):
    return TF.conv_transpose2d(y, torch.flip(w, (2, 3)), **kw)


def conv2d_zero_spatial_ok(x, w, *a, **kw):
    if x.shape[2] == 0 or x.shape[3] == 0:
        return torch.zeros((x.shape[0], w.shape[0], 1, 1), dtype=x.dtype)
    return TF.conv2d(x, w, *a, **kw)


scipy_ops = backends.get("scipy").ops
numpy_ops = backends.get("numpy").ops

register({
    "torch-same-pads-extra-at-end": _be("same-extra-at-start", {"torch.conv2d_same": same_extra_at_start}),
    "torch-same-equals-correlate2d-same": _be("same-extra-at-start", {"torch.conv2d_same": same_extra_at_start}),
    "torch-same-vs-signal-correlate-same": _be("same-extra-at-start", {"torch.conv2d_same": same_extra_at_start}),
    "torch-same-vs-np-correlate-same": _be("conv1d-same-is-np-correlate",
                                           {"torch.F": FakeF(conv1d=conv1d_same_is_np_correlate)}),
    "ndimage-constant-equals-convolve2d-same": _be("ndimage-as-convolve2d", {
        "scipy.ndimage.convolve": lambda a, k, mode="reflect", cval=0.0: signal.convolve2d(a, k, "same")}, "scipy"),
    "ndimage-default-equals-convolve2d-same": _be("ndimage-default-constant", {
        "scipy.ndimage.convolve": lambda a, k, mode="constant", cval=0.0: ndimage.convolve(a, k, mode=mode, cval=cval)},
        "scipy"),
    "np-convolve-same-is-max-length-and-commutes": _be("np-convolve-is-scipy", {"np.convolve": signal.convolve},
                                                       "numpy"),
    "scipy-convolve-same-has-first-length": _be("scipy-convolve-is-np", {"scipy.signal.convolve": np.convolve},
                                                "scipy"),
    "scipy-convolve-same-commutes": _be("scipy-convolve-is-np", {"scipy.signal.convolve": np.convolve}, "scipy"),
    "padding-mode-names-map": _be("np-pad-swapped", {"np.pad": np_pad_swapped}, "numpy"),
    "torch-reflect-pad-needs-pad-below-size": _be("pad-never-raises", {"torch.F": FakeF(pad=pad_never_raises)}),
    "fftconvolve-within-normwise-bound": _be("fft-float32", {"scipy.signal.fftconvolve": fft_in_float32}, "scipy"),
    "fftconvolve-error-is-elementwise": _be("fft-is-direct", {"scipy.signal.fftconvolve": direct_only}, "scipy"),
    "fftconvolve-keeps-sign": _be("fft-is-direct", {"scipy.signal.fftconvolve": direct_only}, "scipy"),
    "fft-spreads-nan-direct-does-not": _be("fft-is-direct", {"scipy.signal.convolve": direct_only}, "scipy"),
    "int64-fft-convolve-is-exact": _be("fft-is-direct", {"scipy.signal.convolve": direct_only}, "scipy"),
    "int64-direct-convolve-is-exact": _be("direct-via-float", {"scipy.signal.convolve": direct_via_float}, "scipy"),
    "numpy-int8-convolve-wraps": _be("np-convolve-promotes", {"np.convolve": np_convolve_promotes}, "numpy"),
    "scipy-int8-convolve2d-wraps": _be("convolve2d-saturates", {"convolve2d": convolve2d_saturates}, "scipy"),
    "np-correlate-conjugates-complex": _be("np-correlate-no-conj", {"np.correlate": correlate_no_conj}, "numpy"),
    "cnn-conv-does-not-conjugate": _be("conv2d-conjugates", {"torch.F": FakeF(conv2d=conv2d_conjugates)}),
    "torch-cpu-batch-invariant-bitwise": _be("conv-per-sample", {"conv2d": conv_per_sample}),
    "torch-cpu-batch-slices-within-bound": _be("conv-batch-drift", {"conv2d": conv_batch_drift}),
    "torch-cpu-half-accumulates-in-fp32": _be("half-acc16", {"torch.conv_half": conv_half_acc16}),
    "unfold-rows-are-channel-first": _be("unfold-ijc", {"torch.F": FakeF(unfold=unfold_rows_ijc)}),
    "fold-unfold-is-x-times-coverage": _be("unfold-ijc", {"torch.F": FakeF(unfold=unfold_rows_ijc)}),
    "fold-unfold-is-identity": _be("fold-doubled", {"torch.F": FakeF(fold=fold_doubled)}),
    "conv-transpose-is-adjoint": _be("conv-transpose-flipped", {"torch.F": FakeF(conv_transpose2d=conv_transpose_flipped)}),
    "empty-batch-ok-zero-spatial-raises": _be("zero-spatial-ok", {"torch.F": FakeF(conv2d=conv2d_zero_spatial_ok)}),
})



# -- CUDA claims ---------------------------------------------------------------------------------

def _cuda_like(name, fn, mode=None, deterministic=True, **caps):
    from convspec.backends.base import Capabilities
    limits = dict(max_size=12, max_channels=4)
    limits.update(caps)
    return lambda: Backend(name, {"conv2d": fn}, Capabilities(dtypes=("f32", "f64"), mode=mode,
                                                               deterministic=deterministic, gpu=True, **limits),
                           origin="selftest")


def _torch_conv(x, w, b=None, **kw):
    return backends.get("torch").op("conv2d")(x, w, b, **kw)


def _bf16_inputs(x, w, b=None, **kw):
    from convspec.model.case import round_significand
    return _torch_conv(round_significand(x, 8), round_significand(w, 8), b, **kw)


def _tf32_silently(x, w, b=None, **kw):
    from convspec.backends.tf32_backend import to_tf32
    if x.dtype != np.float32:
        return _torch_conv(x, w, b, **kw)
    return _torch_conv(to_tf32(x), to_tf32(w), b, **kw)


_RNG = np.random.default_rng(7)


def _nondeterministic(x, w, b=None, **kw):
    """Sums the channels in a random order each call (like atomics in a split-K kernel)."""
    perm = _RNG.permutation(x.shape[1]) if kw.get("groups", 1) == 1 else np.arange(x.shape[1])
    y = np.zeros(1)
    for k, c in enumerate(perm):
        part = _torch_conv(np.ascontiguousarray(x[:, c:c + 1]), np.ascontiguousarray(w[:, c:c + 1]), None, **kw)
        y = part if k == 0 else (y + part).astype(x.dtype)
    if kw.get("groups", 1) != 1:
        y = _torch_conv(x, w, None, **kw)
    return y if b is None else (y + b[None, :, None, None]).astype(x.dtype)


def _pad_one_side(x, w, b=None, *, padding=0, **kw):
    p = padding if isinstance(padding, tuple) else (padding, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (2 * p[0], 0), (2 * p[1], 0)))
    return _torch_conv(xp, w, b, padding=0, **kw)


# -- CPU models of cuDNN (what the H100 measured), and wrong versions of it -------------------------

def _pairs(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def fft_conv_f32(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """conv2d through float32 FFTs (complex64 products): what cuDNN's FFT kernels compute.  Stride 1,
    dilation 1, groups 1 only (others go to the direct sum)."""
    if x.dtype != np.float32 or _pairs(stride) != (1, 1) or _pairs(dilation) != (1, 1) or groups != 1:
        return _torch_conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    ph, pw = _pairs(padding)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    H, W = xp.shape[2] + kh - 1, xp.shape[3] + kw - 1
    X = np.fft.rfft2(xp, s=(H, W))
    K = np.fft.rfft2(np.ascontiguousarray(w[:, :, ::-1, ::-1]), s=(H, W))
    full = np.fft.irfft2(np.einsum("ncij,ocij->noij", X, K), s=(H, W))
    y = np.ascontiguousarray(full[:, :, kh - 1:xp.shape[2], kw - 1:xp.shape[3]]).astype(np.float32)
    return y if b is None else (y + b[None, :, None, None]).astype(np.float32)


def cudnn_model(tf32: bool, tc_channels=64, fft_kernel=5, tf32_everywhere=False, never_fft=False):
    """A CPU stand-in for torch on CUDA: TF32 input rounding only at tensor-core shapes (C/G and O/G
    >= ``tc_channels``) when ``tf32``, float32 FFT for kernels >= ``fft_kernel``, a direct float32 sum
    otherwise -- the behaviour measured on the H100."""
    from convspec.backends.tf32_backend import to_tf32

    def conv2d(x, w, b=None, **kw):
        g = kw.get("groups", 1)
        tc = x.shape[1] // g >= tc_channels and w.shape[0] // g >= tc_channels
        if x.dtype == np.float32 and tf32 and (tc or tf32_everywhere):
            return _torch_conv(to_tf32(x), to_tf32(w), b, **kw)
        if not never_fft and min(w.shape[2:]) >= fft_kernel:
            return fft_conv_f32(x, w, b, **kw)
        return _torch_conv(x, w, b, **kw)
    return conv2d


def cudnn_like(name, fn, tf32):
    """A selftest backend shaped like torch-cuda (fast class, on a GPU, cudnn.version), small limits that
    still admit the pinned 40x40 FFT shape and 64-channel tensor-core shapes of 8x8."""
    from convspec.backends.base import Capabilities
    return lambda: Backend(name, {"conv2d": fn, "cudnn.version": lambda: 0},
                           Capabilities(dtypes=("f32",), mode="tf32" if tf32 else None, accuracy="fast", gpu=True,
                                        max_size=40, max_channels=64, max_batch=2, max_kernel=7, groups=False),
                           origin="selftest")


register({
    "tf32-within-tf32-bound": _cuda_like("bf16-claims-tf32", _bf16_inputs, mode="tf32"),
    "tf32-within-fp32-bound": _cuda_like("fp32-claims-tf32", _torch_conv, mode="tf32"),
    "tf32-integers-above-2048-exact": _cuda_like("fp32-claims-tf32", _torch_conv, mode="tf32"),
    "cuda-fp32-within-fp32-bound": _cuda_like("tf32-silently", _tf32_silently),
    "cuda-deterministic-reruns-bitwise": _cuda_like("random-order-sum", _nondeterministic),
    "cuda-agrees-with-cpu": _cuda_like("cuda-pads-one-side", _pad_one_side),
    # cuDNN claims: a cuDNN that is always direct, one that always rounds to TF32
    "cudnn-fp32-exact-on-small-integers": cudnn_like("cudnn-never-fft", cudnn_model(False, never_fft=True), False),
    "allow-tf32-rounds-every-conv": cudnn_like("cudnn-tf32-everywhere", cudnn_model(True, tf32_everywhere=True), True),
    "cudnn-tf32-within-fp32-bound-below-tensor-core-shapes": cudnn_like(
        "cudnn-tf32-everywhere", cudnn_model(True, tf32_everywhere=True), True),
})


# -- the conv family (issue 10) -------------------------------------------------------------------------

def input_grad_forgets_flip(input_shape, w, grad_out, **kw):
    """conv2d_input as the transposed conv with the kernel not rotated by 180 degrees."""
    from convspec.backends import numpy_backend
    return numpy_backend.conv2d_input(input_shape, np.ascontiguousarray(w[:, :, ::-1, ::-1]), grad_out, **kw)


def conv2d_bias_reversed(x, w, b=None, **kw):
    """F.conv2d whose bias is added to the output channels in reverse order."""
    y = TF.conv2d(x, w, None, **kw)
    return y if b is None else y + b.flip(0)[None, :, None, None]


register({
    "conv2d-input-matches-definition": _be("input-grad-forgets-flip", {"conv2d_input": input_grad_forgets_flip},
                                           base="numpy"),
    "conv2d-bias-grad-is-sum": _be("bias-reversed", {"torch.F": FakeF(conv2d=conv2d_bias_reversed)}),
})


def _pending(name):
    """A wrong implementation of the gallery (the padding claims' twins)."""
    import os

    from convspec.backends.base import load_impl
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return lambda: load_impl(os.path.join(tests, "gallery", "impls", name + ".py"))


def _register_padding_twins():
    from convspec.claims import REGISTRY
    pad = {"conv2d-same-padding-keeps-size": _pending("same_extra_at_start"),
           "conv2d-padding-mode-is-np-pad": _pending("reflect_as_symmetric")}
    register({cid: t for cid, t in pad.items() if cid in REGISTRY})


_register_padding_twins()


def conv1d_ignores_dilation(x, w, b=None, *, dilation=1, **kw):
    from convspec.backends import numpy_backend
    return numpy_backend.conv1d(x, w, b, **kw)


def conv3d_strides_swapped(x, w, b=None, *, stride=1, **kw):
    """conv3d that applies the height stride to the width and the width stride to the height."""
    from convspec.backends import numpy_backend
    s = stride if isinstance(stride, (tuple, list)) else (stride,) * 3
    return numpy_backend.conv3d(x, w, b, stride=(s[0], s[2], s[1]), **kw)


register({
    "conv1d-is-conv2d-with-height-1": _be("conv1d-ignores-dilation", {"conv1d": conv1d_ignores_dilation}, base="numpy"),
    "conv2d-is-conv3d-with-depth-1": _be("conv3d-strides-swapped", {"conv3d": conv3d_strides_swapped}, base="numpy"),
})


# -- layouts (issue 10): channels-last implementations and torch's channels_last format --------------------

def conv_reads_channels_last_as_contiguous(x, w, *a, **kw):
    """F.conv2d / F.conv3d whose kernel reads a channels-last input's memory as if it were contiguous (NCHW)."""
    fmt = torch.channels_last if x.ndim == 4 else torch.channels_last_3d
    if x.is_contiguous(memory_format=fmt) and not x.is_contiguous():
        x = torch.as_strided(x, x.shape, torch.empty(x.shape).stride())     # the same memory, read as NCHW
    return getattr(TF, f"conv{x.ndim - 2}d")(x, w, *a, **kw)


def _register_layout_twins():
    from convspec.claims import REGISTRY, ranked
    misread = FakeF(conv2d=conv_reads_channels_last_as_contiguous, conv3d=conv_reads_channels_last_as_contiguous)
    twins = {ranked("conv2d-nhwc-is-nchw-transposed", r): "nhwc_channel_axis_misread" for r in (1, 2, 3)}
    twins.update({ranked("torch-channels-last-equals-contiguous", r): _be("channels-last-read-as-nchw",
                                                                          {"torch.F": misread}) for r in (2, 3)})
    register({cid: t for cid, t in twins.items() if cid in REGISTRY})


_register_layout_twins()
