"""Every dtype of the contract crosses the worker boundary bit for bit, and "declined" crosses it too
(convspec/isolation/protocol.py, convspec/isolation/worker.py, convspec/isolation/supervisor.py, docs/PROTOCOL.md).

* Each dtype of :data:`convspec.model.problem.DTYPES` (bf16 as its own 2-byte code ``bfloat16``, never widened)
  survives a frame both ways with every bit (NaN payloads, -0.0, subnormals), in the frame, in the
  shared arena and with a layout.
* A correct numpy implementation gives, through a worker, results bitwise equal to the same
  implementation run in this process, for every dtype: over ``--isolation=process`` (the fork
  server), a Python ``--impl-cmd`` server (``python -m convspec.isolation.worker``), and a featureless Python
  server (plain frames, JSON parameters: what a server in another language sees).
* ``NotImplementedError`` (and a subclass) in the worker is :class:`~convspec.errors.RemoteDeclined` (a
  :class:`convspec.errors.Declined`, also through the in-process guard); a
  ``ValueError``, or a class that is merely *named* NotImplementedError, stays the ContractViolation it
  was.  A call the suite cannot encode (parent side) or the worker cannot decode (worker side) is
  :class:`~convspec.errors.TransportError`, the suite's own error, and never reaches the implementation.
"""

from __future__ import annotations

import os
import sys
import threading

import ml_dtypes
import numpy as np
import pytest

from convspec.backends.base import load_impl
from convspec.errors import ContractViolation, Declined, ProtocolError, RemoteDeclined, TransportError
from convspec.isolation import protocol
from convspec.isolation.supervisor import load_isolated
from convspec.model.problem import DTYPES

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BF16 = np.dtype(ml_dtypes.bfloat16)
WIRE = {"f16": "float16", "bf16": "bfloat16", "f32": "float32", "f64": "float64", "i8": "int8", "i16": "int16",
        "i32": "int32", "i64": "int64", "c128": "complex128"}

NUMPY_IMPL = '''
import numpy as np
NAME = "numpy-direct"


class Refusal(NotImplementedError):
    pass


LookAlike = type("NotImplementedError", (Exception,), {})     # named so, but no refusal


def _wide(a):
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def _narrow(y, dt):
    return y.astype(np.int64).astype(dt) if dt.kind == "i" else y.astype(dt)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """y[n,o,i,j] = b[o] + sum_{c,u,v} x[n,c,i+u,j+v] w[o,c,u,v] (stride 1, no padding, one group):
    accumulated in float64 (complex128) element by element, rounded once into the dtype of x (integers
    wrap).  Batch 4, 5, 6, 7 raise (ValueError, NotImplementedError, a look-alike, a subclass)."""
    raising = {4: ValueError("batch 4 is wrong"), 5: NotImplementedError("batch 5 is not implemented"),
               6: LookAlike("the look-alike"), 7: Refusal("batch 7 declined by a subclass")}
    if x.shape[0] in raising:
        raise raising[x.shape[0]]
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xw, ww = _wide(x), _wide(w)
    y = np.zeros((N, O, H - kh + 1, W - kw + 1), xw.dtype)
    for c in range(C):
        for u in range(kh):
            for v in range(kw):
                y += xw[:, None, c, u:u + y.shape[2], v:v + y.shape[3]] * ww[None, :, c, u, v, None, None]
    if b is not None:
        y += _wide(b)[None, :, None, None]
    return _narrow(y, x.dtype)


def convolve2d(a, k, mode="full"):
    """the full 2-D convolution (mode "full" only), in float64 (complex128), rounded once into the dtype of a"""
    aw, kw_ = _wide(a), _wide(k)
    out = np.zeros((a.shape[0] + k.shape[0] - 1, a.shape[1] + k.shape[1] - 1), aw.dtype)
    for i in range(k.shape[0]):
        for j in range(k.shape[1]):
            out[i:i + a.shape[0], j:j + a.shape[1]] += aw * kw_[i, j]
    return _narrow(out, a.dtype)
'''

# a Python server with no optional feature: every array in the frame, C-ordered; parameters as JSON
PLAIN_SERVER = '''
import sys
from convspec.isolation import protocol, worker
ops, hello = worker.load(sys.argv[1])
protocol.send_frame(1, hello)
sys.exit(worker.serve(0, 1, ops, None))
'''


def every_bits(dtype, n: int, rng) -> np.ndarray:
    """``n`` values of ``dtype`` whose bits cover its awkward corners: for 2-byte floats every bit
    pattern (every NaN payload, both zeros, subnormals, infinities); otherwise random bits."""
    dt = np.dtype(dtype)
    if dt.itemsize == 2 and dt.kind != "i":
        return np.arange(1 << 16, dtype=np.uint16).view(dt)[:n] if n <= 1 << 16 else \
            np.resize(np.arange(1 << 16, dtype=np.uint16), n).view(dt)
    return rng.integers(0, 256, n * dt.itemsize, dtype=np.uint8).view(dt)


def bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8).tobytes()


def _round_trip(header, arrays, arena=None, layouts=False):
    """Encode, write through a pipe (from a thread: frames outgrow the pipe's buffer), read back."""
    frame = protocol.encode(header, arrays, arena, layouts=layouts)
    n = sum(len(memoryview(p).cast("B")) for p in frame[1:])
    r, w = os.pipe()

    def write():
        try:
            protocol.write_all(w, frame)
        finally:
            os.close(w)
    writer = threading.Thread(target=write)
    writer.start()
    try:
        return frame, n, protocol.Reader(r).read_frame(arena=arena, copy=True)
    finally:
        writer.join()
        os.close(r)


# -- the frame ------------------------------------------------------------------------------------------

def test_every_contract_dtype_has_a_code():
    assert set(WIRE) == set(DTYPES)
    for k, name in WIRE.items():
        assert protocol.dtype_name(np.dtype(DTYPES[k])) == name and name in protocol.DTYPES
    assert protocol.dtype_name(BF16) == "bfloat16" and protocol._LE["bfloat16"] == BF16


@pytest.mark.parametrize("key", list(DTYPES))
def test_frame_round_trip_is_bit_exact(key):
    dt = np.dtype(DTYPES[key])
    rng = np.random.default_rng(7)
    a = every_bits(dt, 1 << 16, rng).reshape(4, 128, 128)
    strided = a[:, ::3, ::-2]                           # not C-ordered: travels in C order, or with its layout
    swapped = a.astype(dt.newbyteorder(">"))            # another byte order: travels little-endian
    for layouts in (False, True):
        frame, nbytes, (header, out) = _round_trip({"type": "call", "id": 1}, [("a", a), ("s", strided),
                                                                              ("b", swapped)], layouts=layouts)
        descs = header["arrays"]
        assert [d["dtype"] for d in descs] == [WIRE[key]] * 3
        if not layouts:                                 # exactly itemsize bytes an element: never widened
            assert nbytes == (a.size + strided.size + swapped.size) * dt.itemsize
        for (_, got), want in zip(out, (a, strided, swapped)):
            assert got.dtype == dt and got.shape == want.shape and bits(got) == bits(want.astype(dt))


@pytest.mark.parametrize("key", ["bf16", "f16", "c128"])
def test_arena_round_trip_is_bit_exact(key):
    arena = protocol.Arena.create()
    if arena is None:
        pytest.skip("no memfd on this platform: the arena extension is off (arrays travel in the frame)")
    dt = np.dtype(DTYPES[key])
    a = every_bits(dt, 1 << 16, np.random.default_rng(1))       # >= 64 KiB: placed in the arena
    arena.ensure(2 * a.nbytes)
    try:
        frame, nbytes, (header, out) = _round_trip({"type": "result"}, [("y", a)], arena)
        assert header["arrays"][0].get("at") == 0 and nbytes == 0
        assert out[0][1].dtype == dt and bits(out[0][1]) == bits(a)
    finally:
        arena.close()


def test_undecodable_dtype_names_itself():
    with pytest.raises(ProtocolError, match=r"array 'x': dtype float8_e4m3fn cannot travel"):
        protocol.encode({"type": "call"}, [("x", np.zeros(3, ml_dtypes.float8_e4m3fn))])
    with pytest.raises(ProtocolError, match="unknown dtype 'float8_e4m3fn'"):
        protocol.array_specs({"type": "x", "arrays": [{"name": "x", "dtype": "float8_e4m3fn", "shape": [1]}]})


# -- a correct implementation through each transport ------------------------------------------------

@pytest.fixture(scope="module")
def impl_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("numpy_impl") / "numpy_direct.py"
    path.write_text(NUMPY_IMPL)
    return str(path)


@pytest.fixture(scope="module", params=["process", "impl-cmd", "plain-server"])
def transport(request, impl_path, tmp_path_factory):
    """(isolated backend, in-process backend) of the numpy implementation, over one transport."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PYTHONPATH", os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    if request.param == "process":
        be = load_isolated(impl_path)
    elif request.param == "impl-cmd":
        be = load_isolated(cmd=f"{sys.executable} -m convspec.isolation.worker {impl_path}")
    else:
        server = tmp_path_factory.mktemp("plain") / "plain_server.py"
        server.write_text(PLAIN_SERVER)
        be = load_isolated(cmd=f"{sys.executable} {server} {impl_path}")
    features = be.worker.hello.get("features") or []
    assert ("pyparams" in features) == (request.param != "plain-server")
    yield be, load_impl(impl_path)
    be.close()
    mp.undo()


def _inputs(dt, rng):
    """x (every bit pattern for 2-byte floats: NaN payloads, -0.0, subnormals, infinities), w, b."""
    if dt.kind == "i":
        x = rng.integers(-100, 100, (2, 3, 32, 32)).astype(dt)
    elif dt.itemsize == 2:                             # 98304 values: every bit pattern; > 64 KiB: the arena
        x = every_bits(dt, 2 * 3 * 128 * 128, rng).reshape(2, 3, 128, 128)
    else:
        x = rng.standard_normal((2, 3, 32, 32)).astype(dt) * (1 + 1j if dt.kind == "c" else 1)
        x.reshape(-1)[:4] = [np.nan, -0.0, np.inf, 5e-324]
    w = rng.integers(-3, 4, (4, 3, 2, 3)).astype(dt)
    b = rng.integers(-3, 4, 4).astype(dt)
    return x, w, b


@pytest.mark.parametrize("key", list(DTYPES))
def test_results_are_bitwise_those_of_the_same_implementation_in_process(key, transport):
    be, inproc = transport
    dt = np.dtype(DTYPES[key])
    rng = np.random.default_rng(list(DTYPES).index(key))
    x, w, b = _inputs(dt, rng)
    with np.errstate(all="ignore"):
        for args in ((x, w, b), (x, w)):
            want, got = inproc.ops["conv2d"](*args), be.ops["conv2d"](*args)
            assert got.dtype == dt and got.shape == want.shape and bits(got) == bits(want)
        a, k = x[0, 0], w[0, 0]
        want, got = inproc.ops["convolve2d"](a, k, "full"), be.ops["convolve2d"](a, k, "full")
        assert got.dtype == dt and bits(got) == bits(want)


def test_not_implemented_is_declined_and_nothing_else_is(transport):
    be, _ = transport
    w = np.ones((1, 1, 1, 1), BF16)

    def call(n):
        return be.ops["conv2d"](np.ones((n, 1, 2, 2), BF16), w)

    with pytest.raises(RemoteDeclined) as declined:
        call(5)
    e = declined.value
    assert str(e) == "numpy-direct.conv2d declined the call: NotImplementedError: batch 5 is not implemented"
    assert isinstance(e, Declined) and not isinstance(e, (ContractViolation, AssertionError))
    named = e.on("n5c1h2w2_o1k1x1_bf16", "the case")
    assert str(named) == ("numpy-direct.conv2d declined n5c1h2w2_o1k1x1_bf16: NotImplementedError: "
                          "batch 5 is not implemented") and named.case == "the case"
    assert "batch 5" in e.remote_traceback
    with pytest.raises(RemoteDeclined, match=r"declined the call: Refusal: batch 7 declined by a subclass"):
        call(7)
    with pytest.raises(ContractViolation, match=r"^numpy-direct.conv2d raised ValueError: batch 4 is wrong$"):
        call(4)
    with pytest.raises(ContractViolation, match=r"conv2d raised NotImplementedError: the look-alike$"):
        call(6)                                         # named NotImplementedError, but not one: a failure
    assert call(1).dtype == BF16                        # the same server goes on serving


def test_the_guard_passes_a_declined_call_on(transport):
    """Through the in-process guard (Backend.call), the worker's refusal stays a Declined."""
    from convspec.model.case import Case
    from convspec.model.problem import Problem
    be, _ = transport
    with pytest.raises(Declined, match=r"^numpy-direct.conv2d declined .*NotImplementedError: batch 5"):
        be.call("conv2d", Case.seeded(Problem.parse("n5c1h3w3_o1k1x1_bf16"), 0))


# -- the suite's own errors -------------------------------------------------------------------------

def test_a_call_the_parent_cannot_encode_is_the_suites_error(transport):
    be, _ = transport
    x = np.zeros((1, 1, 2, 2), ml_dtypes.float8_e4m3fn)
    with pytest.raises(TransportError) as e:
        be.ops["conv2d"](x, np.ones((1, 1, 1, 1)))
    msg = str(e.value)
    assert "parent side, encoding the call" in msg and "array 'x': dtype float8_e4m3fn" in msg
    assert "not a fault of the implementation" in msg and not isinstance(e.value, ContractViolation)
    assert e.value.suite_error                          # the in-process guard lets it through
    with pytest.raises(TransportError, match=r"parameter 'stride': parameter value .* cannot travel"):
        be.ops["conv2d"](np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)), stride=object())


def test_a_frame_the_worker_cannot_decode_is_the_suites_error(transport, monkeypatch):
    """A parent that knows a dtype code its worker does not (version skew): the worker says so."""
    be, _ = transport
    f8 = np.dtype(ml_dtypes.float8_e4m3fn)
    monkeypatch.setitem(protocol._LE, "float8_e4m3fn", f8)
    monkeypatch.setitem(protocol._NAME, f8, "float8_e4m3fn")
    starts = be.worker.starts
    with pytest.raises(TransportError) as e:
        be.ops["conv2d"](np.zeros((1, 1, 2, 2), f8), np.zeros((1, 1, 1, 1), f8))
    msg = str(e.value)
    assert "worker side" in msg and "unknown dtype 'float8_e4m3fn'" in msg and "was not called" in msg
    monkeypatch.undo()
    assert be.ops["conv2d"](np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1))).shape == (1, 1, 2, 2)
    assert be.worker.starts == starts + 1               # the server out of step was replaced
