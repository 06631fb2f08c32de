"""Process isolation (convspec/isolation/: supervisor.py, worker.py, protocol.py; docs/PROTOCOL.md).

The implementations of ``tests/gallery/impls_isolated/`` are correct except on inputs wider than 3, where they
exit, segfault, spin in native code or allocate without bound.  Through the worker each of them is an
ordinary failure that names the fault and shrinks exactly as far as an ordinary wrong result at the
same seam (``wrong_past_seam.py``, run in process).  They never run in this process: a segfault here
would end the self-tests.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import Phase, settings

from convspec.backends.base import load_impl
from convspec.claims import REGISTRY, load_builtin
from convspec.errors import ContractViolation, Hang, ImplError, Mismatch, PeerClosed, ProtocolError
from convspec.isolation import protocol
from convspec.isolation.supervisor import describe_status, load_isolated
from convspec.model.case import Case
from convspec.model.problem import Problem
from convspec.search import profiles
from convspec.search.engine import run_claim
from tests.conftest import gallery_path

HERE = os.path.dirname(os.path.abspath(__file__))
GALLERY_DIR = os.path.join(os.path.dirname(HERE), "gallery")
ROOT = os.path.dirname(os.path.dirname(HERE))
ISOLATED = os.path.join(GALLERY_DIR, "impls_isolated")
C_SERVER = os.path.join(ROOT, "examples", "c_server", "conv_server.c")
CLAIM = "conv2d-matches-definition"
MEMORY_LIMIT_MB = 256

ALL_OPS = '''
import os, sys
sys.path.insert(0, {gallery!r})
import _base
NAME = "all-ops"
def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    print("conv2d called", (stride, padding, dilation, groups))            # stdout must not corrupt the protocol
    return _base.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
def convolve2d(a, k, mode="full"):
    return _base.convolve2d(a, k, mode)
def correlate2d(a, k, mode="full"):
    return _base.correlate2d(a, k, mode)
'''


def isolated(name: str) -> str:
    return os.path.join(ISOLATED, name + ".py")


def claim(pinned: bool = True):
    """The claim the faults are gated on; without its pinned @example cases (``pinned=False``) the
    failure is found by the search and shrunk (a failing pinned example is reported as it is)."""
    load_builtin()
    c = REGISTRY[CLAIM]
    return c if pinned else dataclasses.replace(c, examples=())


@pytest.fixture
def all_ops(tmp_path):
    path = tmp_path / "all_ops.py"
    path.write_text(ALL_OPS.format(gallery=os.path.join(GALLERY_DIR, "impls")))
    return str(path)


@pytest.fixture
def closing():
    backends = []

    def track(be):
        backends.append(be)
        return be
    yield track
    for be in backends:
        be.close()


# -- the protocol ---------------------------------------------------------------------------------------

def _round_trip(header, arrays, arena=None):
    r, w = os.pipe()
    try:
        protocol.write_all(w, protocol.encode(header, arrays, arena))
        os.close(w)
        w = None
        return protocol.Reader(r).read_frame(arena=arena, copy=True)
    finally:
        os.close(r)
        if w is not None:
            os.close(w)


@pytest.mark.parametrize("dtype", protocol.DTYPES)
def test_protocol_round_trip_every_dtype(dtype):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((2, 3, 4)) * 9).astype(dtype)
    b = np.asfortranarray(a)[:, ::-1, ::2]                      # not C-ordered: travels as C order
    c = a.astype(np.dtype(dtype).newbyteorder(">")) if np.dtype(dtype).itemsize > 1 else a
    d = np.array(a.reshape(-1)[0])                              # 0-d
    e = np.empty((0, 5), dtype)                                  # empty
    header, out = _round_trip({"type": "call", "id": 3, "params": {"stride": [2, 1]}},
                              [("a", a), ("b", b), ("c", c), ("d", d), ("e", e)])
    assert header["type"] == "call" and header["id"] == 3 and header["params"] == {"stride": [2, 1]}
    assert [n for n, _ in out] == ["a", "b", "c", "d", "e"]
    for (_, got), want in zip(out, (a, b, c, d, e)):
        assert got.shape == want.shape and got.dtype == np.dtype(dtype) and got.flags.c_contiguous
        assert got.dtype.byteorder in "<=|" and np.array_equal(got, want)


def test_protocol_arena_round_trip_and_rejections():
    arena = protocol.Arena.create()
    if arena is None:
        pytest.skip("no memfd on this platform: the arena extension is off (arrays travel in the frame)")
    big = np.arange(protocol.ARENA_MIN // 8 * 3, dtype=np.float64).reshape(3, -1)
    small = np.arange(5, dtype=np.int32)
    arena.ensure(2 * big.nbytes)
    frame = protocol.encode({"type": "result"}, [("big", big), ("small", small)], arena)
    assert b'"at":0' in frame[0] and sum(len(memoryview(p).cast("B")) for p in frame[1:]) == small.nbytes
    header, out = _round_trip({"type": "result"}, [("big", big), ("small", small)], arena)
    assert np.array_equal(out[0][1], big) and np.array_equal(out[1][1], small)
    arena.close()
    with pytest.raises(ProtocolError, match="expected a frame starting with"):
        protocol.decode_header(b"HELO\x00\x00\x00\x00")
    with pytest.raises(ProtocolError, match="unknown dtype 'float128'"):
        protocol.array_specs({"type": "x", "arrays": [{"dtype": "float128", "shape": [1]}]})
    with pytest.raises(ProtocolError, match="bad shape"):
        protocol.array_specs({"type": "x", "arrays": [{"dtype": "float64", "shape": [-1]}]})
    r, w = os.pipe()
    os.write(w, protocol.encode({"type": "result"}, [("y", np.ones(4))])[0] + b"\x00" * 8)   # 8 of 32 bytes
    os.close(w)
    with pytest.raises(PeerClosed):
        protocol.Reader(r).read_frame()
    os.close(r)
    assert protocol.encode_param((np.int64(2), 1)) == [2, 1] and protocol.decode_param([2, 1]) == (2, 1)


# -- a correct implementation through the worker ------------------------------------------------------

def test_correct_implementation_gives_identical_results(all_ops, closing, capfd):
    inproc = load_impl(all_ops)
    be = closing(load_isolated(all_ops))
    assert be.name == "all-ops" and be.provides == inproc.provides and be.origin == all_ops
    assert all(getattr(f, "enforces_timeout", False) for f in be.ops.values())
    rng = np.random.default_rng(0)
    calls = [((2, 4, 7, 9), (6, 2, 3, 2), dict(stride=(2, 1), padding=1, dilation=[1, 2], groups=2), np.float32),
             ((1, 1, 8, 8), (1, 1, 3, 3), {}, np.float64),
             ((2, 16, 40, 40), (8, 16, 3, 3), dict(padding=(1, 0)), np.float64)]      # > 64 KiB: via the arena
    for xs, ws, kw, dt in calls:
        x, w = rng.standard_normal(xs).astype(dt), rng.standard_normal(ws).astype(dt)
        b = rng.standard_normal(ws[0]).astype(dt)
        want, got = inproc.ops["conv2d"](x, w, b, **kw), be.ops["conv2d"](x, w, b, **kw)
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)
    a, k = rng.integers(-4, 5, (5, 6)).astype(np.float64), rng.integers(-4, 5, (2, 3)).astype(np.float64)
    for op in ("convolve2d", "correlate2d"):
        for mode in ("full", "same", "valid"):
            assert np.array_equal(be.ops[op](a, k, mode), inproc.ops[op](a, k, mode))
    assert "conv2d called" in capfd.readouterr().err      # the implementation's print reached our stderr


PROBE = '''
import hashlib
import numpy as np
def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    root = x
    while isinstance(root.base, np.ndarray):
        root = root.base
    raise ValueError(repr((type(stride).__name__, type(padding).__name__, type(dilation).__name__,
                           [type(v).__name__ for v in (stride if isinstance(stride, (tuple, list)) else [stride])],
                           x.strides, x.flags.c_contiguous, x.flags.f_contiguous, x.flags.writeable, w.strides,
                           root.nbytes, hashlib.md5(root.tobytes(order='A')).hexdigest(), x.tolist())))
'''


@pytest.mark.parametrize("form", ["plain", "s=int,p=list,d=np", "x=F,w=T", "x=step,w=neg,ro", "x=big,w=step",
                                  "x=T,w=big,s=list,ro"])
def test_call_forms_reach_the_worker_unchanged(form, tmp_path, closing):
    """Argument forms (int, list, numpy integer) and array layouts (Fortran, strided, transposed,
    negative strides, offset in a larger buffer, read-only) reach a Python implementation exactly as
    the suite passed them, so the call forms test it through the worker as they do in process."""
    from convspec.model import forms
    path = tmp_path / "probe.py"
    path.write_text(PROBE)
    be, inproc = closing(load_isolated(str(path))), load_impl(str(path))
    rng = np.random.default_rng(3)
    x, w = rng.integers(-4, 5, (1, 2, 5, 6)).astype(np.float64), rng.integers(-4, 5, (3, 2, 2, 2)).astype(np.float64)
    kwargs = dict(stride=(2, 2), padding=(1, 1), dilation=(1, 1), groups=1)
    args, kw = forms.apply(forms.CallForm.parse(form), "conv2d", (x, w, None), kwargs)
    with pytest.raises(ValueError) as here:
        inproc.ops["conv2d"](*args, **kw)
    with pytest.raises(ContractViolation) as there:
        be.ops["conv2d"](*args, **kw)
    assert str(there.value) == f"all-ops.conv2d raised ValueError: {here.value}".replace("all-ops", be.name)


@pytest.mark.parametrize(("name", "needle"), [("relu_into_input", "wrote into its input x"),
                                              ("identity_returns_input", "returned a view of its input x")])
def test_worker_side_contract_checks(name, needle, closing):
    be = closing(load_isolated(gallery_path(name)))
    x = np.arange(9.0).reshape(1, 1, 3, 3) - 4
    with pytest.raises(ContractViolation, match=needle):
        be.ops["conv2d"](x, np.ones((1, 1, 1, 1)))


def test_reused_output_buffer_is_seen_by_the_worker(closing):
    be = closing(load_isolated(gallery_path("reuses_output_buffer")))
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    assert be.ops["conv2d"](x, w).shape == (1, 1, 2, 2)
    with pytest.raises(ContractViolation, match="returned memory that it already returned .* reuses its output buffer"):
        be.ops["conv2d"](2 * x, w)


def test_guard_rejects_a_wrong_dtype_through_the_worker(closing):
    be = closing(load_isolated(gallery_path("wrong_dtype")))
    case = Case.seeded(Problem.parse("n1c1h4w4_o1k3x3_f32"), 0)
    with pytest.raises(ContractViolation, match="returned dtype float64, expected float32"):
        be.call("conv2d", case)


# -- crashes, hangs and memory become ordinary, shrunk failures ---------------------------------------

FAULTS = [("exits", "worker exited with status 3", None, 240),
          ("segfaults", "worker killed by SIGSEGV", None, 240),
          ("hangs_native", "worker killed (hang)", None, 240),
          ("allocates_unbounded", f"exceeded memory limit of {MEMORY_LIMIT_MB} MiB", MEMORY_LIMIT_MB, 240)]


@pytest.fixture(scope="module")
def seam_yardstick():
    """How far hypothesis shrinks an ordinary wrong result past the seam, in process: the case every
    fault past the same seam must shrink to as well."""
    o = run_claim(claim(pinned=False), load_impl(isolated("wrong_past_seam")), profiles.get("ci"))
    assert not o.ok and isinstance(o.failure, Mismatch) and o.case.problem.spatial[-1] > 3, o.message
    return o.case.problem


@pytest.mark.parametrize(("name", "needle", "memory", "seconds"), FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_is_a_failure_shrunk_to_the_seam(name, needle, memory, seconds, seam_yardstick, closing):
    be = closing(load_isolated(isolated(name), memory_limit_mb=memory))
    t0 = time.perf_counter()
    o = run_claim(claim(pinned=False), be, profiles.get("ci"))
    took = time.perf_counter() - t0
    assert not o.ok and o.found == "broken", (o.found, o.message)
    assert needle in o.message, o.message
    assert o.case is not None and str(o.case.problem) in o.message
    assert o.case.problem == seam_yardstick, f"shrunk to {o.case.problem}; a wrong result shrinks to {seam_yardstick}"
    assert o.case.problem.spatial[-1] > 3 and took < seconds, (o.case.problem, f"took {took:.0f}s")
    assert be.ops["conv2d"](np.ones((1, 1, 2, 3)), np.ones((1, 1, 1, 1))).shape == (1, 1, 2, 3)   # still serving


@pytest.mark.parametrize(("name", "needle", "memory"), [f[:3] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_fault_on_a_pinned_example_is_reported(name, needle, memory, closing):
    be = closing(load_isolated(isolated(name), memory_limit_mb=memory))
    # no shrink phase: the fault is met on a pinned example first; shrinking a fault is the test above (a
    # hang's shrinking costs 25 s of time limits)
    o = run_claim(claim(), be, settings(profiles.get("ci"), phases=tuple(p for p in Phase if p != Phase.shrink)))
    assert not o.ok and o.found == "broken" and needle in o.message and o.case.problem.spatial[-1] > 3, o.message


def test_hang_budget_stops_the_search_at_a_hanging_case(closing, monkeypatch):
    from convspec.search import engine
    monkeypatch.setattr(engine, "ROWS_ENABLED", False)   # the budget of the random search (a row's hang is pinned)
    be = closing(load_isolated(isolated("hangs_native")))
    be.worker.hang_budget = 4 * be.caps.timeout
    o = run_claim(claim(pinned=False), be, profiles.get("ci"))
    assert isinstance(o.failure, Hang) and "shrinking stopped here: 4 hangs" in o.message, o.message
    assert o.found == "broken" and o.case.problem.spatial[-1] > 3


def test_hang_is_cut_in_native_code_and_not_rerun(closing):
    be = closing(load_isolated(isolated("hangs_native")))
    assert be.caps.timeout == 0.3
    x, w = np.ones((1, 1, 1, 4)), np.ones((1, 1, 1, 1))
    t0 = time.perf_counter()
    with pytest.raises(ContractViolation, match=r"hung: no result after 0.3s: worker killed \(hang\)") as e:
        be.ops["conv2d"](x, w)
    assert e.value.fault == "hung"
    assert time.perf_counter() - t0 < 5
    t0 = time.perf_counter()
    with pytest.raises(ContractViolation, match="this input hung before and is not run again") as e:
        be.ops["conv2d"](x, w)
    assert e.value.fault == "hung"
    assert time.perf_counter() - t0 < 0.25


@pytest.mark.parametrize("fork", ["1", "0"], ids=["fork-server", "spawn"])
def test_worker_restarts_after_a_crash(fork, closing, monkeypatch):
    monkeypatch.setenv("CONVSPEC_WORKER_FORK", fork)
    be = closing(load_isolated(isolated("segfaults")))
    assert be.worker.mode == ("fork" if fork == "1" else "spawn")
    ok_x, bad_x, w = np.ones((1, 1, 2, 3)), np.ones((1, 1, 2, 4)), np.ones((1, 1, 1, 1))
    assert np.array_equal(be.ops["conv2d"](ok_x, w), ok_x)
    pid, starts = be.worker.pid, be.worker.starts
    for _ in range(3):
        with pytest.raises(ContractViolation, match="crashed: worker killed by SIGSEGV"):
            be.ops["conv2d"](bad_x, w)
        assert np.array_equal(be.ops["conv2d"](ok_x, w), ok_x)
    assert be.worker.starts == starts + 3 and be.worker.pid != pid


def test_a_forked_copy_of_the_parent_starts_its_own_worker(closing):
    """pytest-xdist and fork: a worker serves only the process that started it."""
    be = closing(load_isolated(isolated("segfaults")))
    x, w = np.ones((1, 1, 2, 3)), np.ones((1, 1, 1, 1))
    be.ops["conv2d"](x, w)
    mine = be.worker.pid
    r, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:                                  # the copy: call, report the worker it used, leave at once
        code = 1
        try:
            be.ops["conv2d"](x, w)
            os.write(wfd, str(be.worker.pid).encode())
            be.close()
            code = 0
        finally:
            os._exit(code)
    os.close(wfd)
    theirs = os.read(r, 64)
    os.close(r)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert theirs and int(theirs) != mine
    assert be.worker.pid == mine and be.ops["conv2d"](x, w).shape == (1, 1, 2, 3)


def test_outer_timer_is_kept(closing):
    """An ITIMER_REAL timer running around a proxy call (pytest-timeout's signal method) still fires."""
    be = closing(load_isolated(isolated("hangs_native")))
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(time.monotonic()))
    try:
        t0 = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, 0.6)
        with pytest.raises(ContractViolation, match="hang"):
            be.ops["conv2d"](np.ones((1, 1, 1, 5)), np.ones((1, 1, 1, 1)))
        assert not fired and signal.getitimer(signal.ITIMER_REAL)[0] > 0
        time.sleep(1.0)
        assert fired and fired[0] - t0 < 1.2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_exit_statuses_are_named():
    assert describe_status(-signal.SIGSEGV) == "worker killed by SIGSEGV"
    assert describe_status(3) == "worker exited with status 3"
    assert "memory limit of 64 MiB" in describe_status(-signal.SIGKILL, 64)


# -- load errors: the messages of load_impl -----------------------------------------------------------

def test_load_errors_match_load_impl(tmp_path):
    empty, broken, badcaps = tmp_path / "empty.py", tmp_path / "broken.py", tmp_path / "badcaps.py"
    empty.write_text("x = 1\n")
    broken.write_text("import nonexistent_module_xyz\n")
    badcaps.write_text("CAPABILITIES = {'strides': 2}\ndef conv2d(x, w, b=None, **k):\n    return x\n")
    for target in (str(tmp_path / "missing.py"), str(empty), str(broken), str(badcaps)):
        with pytest.raises(ImplError) as direct:
            load_impl(target)
        with pytest.raises(ImplError) as via_worker:
            load_isolated(target)
        assert str(via_worker.value) == str(direct.value)


def test_bad_servers_are_usage_errors(tmp_path):
    with pytest.raises(ImplError, match="no such file"):
        load_isolated(cmd=str(tmp_path / "no-such-server"))
    talker = tmp_path / "talker.sh"
    talker.write_text("#!/bin/sh\necho hello world\n")
    talker.chmod(0o755)
    with pytest.raises(ImplError, match=r"did not say hello: expected a frame starting with b'CVSP'"):
        load_isolated(cmd=str(talker))
    quitter = tmp_path / "quitter.sh"
    quitter.write_text("#!/bin/sh\necho 'cannot open device' >&2\nexit 7\n")
    quitter.chmod(0o755)
    with pytest.raises(ImplError, match="worker exited with status 7 before its hello -- worker stderr: cannot open"):
        load_isolated(cmd=str(quitter))


# -- the C reference server ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def c_servers(tmp_path_factory):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler: neither $CC nor cc, gcc or clang is on PATH, so examples/c_server/conv_server.c "
                    "cannot be built")
    out = tmp_path_factory.mktemp("c_server")
    built = {}
    for name, flags in (("conv_server", []), ("conv_server_bug", ["-DBUG"])):
        exe = str(out / name)
        r = subprocess.run([cc, "-O2", "-Wall", "-Werror", *flags, "-o", exe, C_SERVER], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        built[name] = exe
    return built


def test_c_server_matches_the_reference(c_servers, closing):
    """float64, float32, float16 and bfloat16 (its own 2-byte code): integer data, so the exact sum
    rounded once into the dtype is the reference's float64 result cast to it, bit for bit."""
    import ml_dtypes
    be = closing(load_isolated(cmd=c_servers["conv_server"]))
    assert be.name == "c-direct" and be.provides == {"conv2d"} and be.caps.dtypes == ("f64", "f32", "f16", "bf16")
    ref = load_impl(gallery_path("correct_torch")).ops["conv2d"]
    rng = np.random.default_rng(2)
    x, w, b = rng.integers(-4, 5, (2, 4, 7, 9)), rng.integers(-4, 5, (6, 2, 3, 2)), rng.integers(-4, 5, 6)
    for dt in (np.float64, np.float32, np.float16, ml_dtypes.bfloat16):
        args = (x.astype(dt), w.astype(dt), b.astype(dt))
        for kw in (dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), dict(stride=3, padding=2, groups=1)):
            if kw["groups"] == 1:
                args = (args[0], rng.integers(-4, 5, (6, 4, 3, 2)).astype(dt), args[2])
            got = be.ops["conv2d"](*args, **kw)
            want = ref(*(a.astype(np.float64) for a in args), **kw).astype(dt)
            assert got.dtype == np.dtype(dt) and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_c_server_rounds_the_2_byte_formats_to_nearest_even(dtype, c_servers, closing):
    """Every bit pattern of the format times 1 + ulp(1): each product is exact in float32 (at most 22
    significant bits), so float32 -> dtype (round to nearest even, numpy and ml_dtypes) is the correctly
    rounded result the server must return -- ties, subnormals, overflow to infinity included (the sign
    of a zero aside)."""
    import ml_dtypes
    dt = np.dtype(ml_dtypes.bfloat16 if dtype == "bfloat16" else np.float16)
    be = closing(load_isolated(cmd=c_servers["conv_server"]))
    x = np.arange(1 << 16, dtype=np.uint16).view(dt).reshape(1, 1, 256, 256)
    w = np.full((1, 1, 1, 1), 1 + 2.0 ** (-7 if dtype == "bfloat16" else -10), dt)     # 1 + ulp(1)
    got = be.ops["conv2d"](x, w)
    with np.errstate(all="ignore"):
        want = (x.astype(np.float32) * np.float32(w.astype(np.float32).item())).astype(dt)
    nan = np.isnan(want.astype(np.float32))
    assert np.array_equal(np.isnan(got.astype(np.float32)), nan)
    zeros = (got.astype(np.float32) == 0) & (want.astype(np.float32) == 0)   # -0.0 * w: the sum from +0.0 is +0.0
    bad = np.flatnonzero((got.view(np.uint16) != want.view(np.uint16)) & ~nan & ~zeros)
    assert not bad.size, [(hex(x.reshape(-1).view(np.uint16)[i]), hex(got.reshape(-1).view(np.uint16)[i]),
                           hex(want.reshape(-1).view(np.uint16)[i])) for i in bad[:5]]


def test_c_server_declines_other_dtypes_and_reports_unknown_codes(c_servers, closing, monkeypatch):
    """A dtype code the C server does not compute: Declined (its error names NotImplementedError); a code
    it does not know: the suite's TransportError, and the server is replaced."""
    import ml_dtypes

    from convspec.errors import RemoteDeclined, TransportError
    be = closing(load_isolated(cmd=c_servers["conv_server"]))
    x, w = np.ones((1, 1, 2, 2), np.int8), np.ones((1, 1, 1, 1), np.int8)
    with pytest.raises(RemoteDeclined, match=r"^c-direct.conv2d declined the call: NotImplementedError: conv_server computes "
                                       r".*not int8"):
        be.ops["conv2d"](x, w)
    with pytest.raises(ContractViolation, match=r"c-direct.conv2d raised ValueError: conv2d takes x \(N,C,H,W\)"):
        be.ops["conv2d"](np.ones((1, 2, 2)), np.ones((1, 1, 1, 1)))
    assert be.ops["conv2d"](x.astype(np.float64), w.astype(np.float64)).shape == (1, 1, 2, 2)
    f8 = np.dtype(ml_dtypes.float8_e4m3fn)
    monkeypatch.setitem(protocol._LE, "float8_e4m3fn", f8)     # a parent that knows a code the server does not
    monkeypatch.setitem(protocol._NAME, f8, "float8_e4m3fn")
    starts = be.worker.starts
    with pytest.raises(TransportError, match=r"worker side\): conv_server: unknown dtype code float8_e4m3fn"):
        be.ops["conv2d"](x.astype(f8), w.astype(f8))
    monkeypatch.undo()
    assert be.ops["conv2d"](x.astype(np.float32), w.astype(np.float32)).dtype == np.float32
    assert be.worker.starts == starts + 1


def test_c_server_passes_the_gate(c_servers, closing):
    be = closing(load_isolated(cmd=c_servers["conv_server"]))
    o = run_claim(claim(), be, profiles.get("ci"))
    assert o.ok and o.found == "holds", o.message


def test_c_server_with_planted_bug_is_caught_and_shrunk(c_servers, closing):
    be = closing(load_isolated(cmd=c_servers["conv_server_bug"]))
    o = run_claim(claim(), be, profiles.get("ci"))                        # a pinned example catches it
    assert not o.ok and o.found == "refuted" and isinstance(o.failure, Mismatch), o.message
    o = run_claim(claim(pinned=False), be, profiles.get("ci"))             # the search finds and shrinks it
    assert not o.ok and isinstance(o.failure, Mismatch), o.message
    p = o.case.problem
    assert p.spatial[-1] > 3 and p.kernel[-1] >= 1 and "c-direct-bug.conv2d vs the definition" in o.message
    assert "repro" in o.repro and "--impl-cmd" in o.repro and c_servers["conv_server_bug"] in o.repro, o.repro


# -- the pytest gate, end to end ----------------------------------------------------------------------

def _pytest_help() -> str:
    return subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=ROOT, capture_output=True, text=True).stdout


def test_pytest_gate_reports_a_segfault_as_a_failure(tmp_path):
    if "--isolation" not in _pytest_help():
        pytest.skip("the pytest plugin has no --isolation option: --impl still runs in the test process, where "
                    "a segfault ends the run")
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("CONVSPEC_IMPL", None)
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-x",
                        "--impl=" + isolated("segfaults"), "--backends", "none", "--claims", CLAIM,
                        "--hypothesis-profile", "ci", "--junitxml", str(tmp_path / "j.xml"),
                        "--convspec-json", str(tmp_path / "r.json")],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-2000:]
    assert "worker killed by SIGSEGV" in r.stdout and "python -m" in r.stdout and "repro" in r.stdout
    assert "<testsuite" in (tmp_path / "j.xml").read_text() and "SIGSEGV" in (tmp_path / "r.json").read_text()
