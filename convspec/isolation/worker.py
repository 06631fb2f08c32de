"""The Python worker server: ``python -m convspec.isolation.worker TARGET`` serves an ``--impl`` TARGET over the
worker protocol (``convspec/isolation/protocol.py``, ``docs/PROTOCOL.md``) on its stdin/stdout.

It loads TARGET with :func:`convspec.backends.base.load_impl` (same errors, sent as a ``fatal`` frame),
sends a ``hello`` with the ops, capabilities, NAME and version, then answers ``call`` frames until
``bye`` or end of file.  Around each call it checks what only this side can see: whether the
implementation wrote into an input (the inputs are compared with pristine copies), returned a
non-array or returned a view of an input.  Everything else (shape, dtype, NaN, the numbers) is
checked by the parent on the returned array.  A ``SystemExit`` from the implementation ends the
process with its status, as it would end any other program.

The protocol owns file descriptors 0 and 1: the implementation's own ``print`` output goes to
stderr, and it reads end of file from stdin.

With ``$CONVSPEC_FORK_FD`` set (by :mod:`convspec.isolation.supervisor`) it is a fork server instead
(:func:`fork_server`): it loads TARGET once and forks a ready server per connection, so that the
parent replaces a crashed server in milliseconds.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import pickle
import socket
import sys
import time
import traceback
import warnings
from dataclasses import asdict

import numpy as np

from convspec.backends.base import load_impl
from convspec.errors import ImplError, PeerClosed, ProtocolError
from convspec.isolation import protocol
from convspec.model.contract import CONTRACT
from convspec.model.ops import LABELS, SHAPE_ARGS

FORK_ENV = "CONVSPEC_FORK_FD"
FEATURES = ["layout", "pyparams"]    # arrays in the layout the suite passed them in; exact Python parameters


def _take_stdio() -> tuple[int, int]:
    """Private copies of fds 0/1 for the protocol; the implementation gets /dev/null and stderr."""
    fin, fout = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return fin, fout


def _qualname(v) -> str:
    return f"{type(v).__module__}.{type(v).__qualname__}"      # as the in-process guard names it


def _owned(a: np.ndarray) -> bool:
    """Whether ``a`` lies in memory of this process (its own, or its base array's)."""
    return a.flags.owndata or (isinstance(a.base, np.ndarray) and a.base.flags.owndata)


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise equality of two C-ordered arrays of one dtype (NaN payloads and -0.0 included)."""
    if a.nbytes <= 4096:
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)))


def serve_call(ops: dict, header: dict, arrays: list) -> tuple[dict, list]:
    """Run one ``call`` frame; return the reply (header, arrays)."""
    cid, op = header.get("id"), header.get("op")
    if op not in ops:
        return {"type": "error", "id": cid, "kind": "unsupported",
                "message": f"does not provide {op!r} (provides {', '.join(sorted(ops))})"}, []
    if "pyparams" in header:           # the exact Python values (numpy integers, lists, tuples)
        params = pickle.loads(base64.b64decode(header["pyparams"]))
    else:
        params = {k: protocol.decode_param(v) for k, v in (header.get("params") or {}).items()}
    given = dict(arrays)
    labels = LABELS[op]
    inputs, pristine = [], []
    for lab in labels:
        a = given.get(lab)
        if a is None:
            inputs.append(None)
            pristine.append(None)
        elif _owned(a):                # a fresh array of this process, in the layout it was sent in
            inputs.append(a)
            pristine.append(np.array(a, copy=True, order="C"))
        else:                          # a read-only view onto the shared arena
            inputs.append(a.copy())
            pristine.append(a)
    args = list(inputs)
    if op in SHAPE_ARGS:
        name, pos = SHAPE_ARGS[op]
        params = dict(params)
        args.insert(pos, tuple(params.pop(name)))
    try:
        out = ops[op](*args, **params)
    except MemoryError as e:
        return {"type": "error", "id": cid, "kind": "memory", "exception": "MemoryError",
                "message": str(e), "traceback": traceback.format_exc(limit=-8)}, []
    except Exception as e:             # NotImplementedError (a subclass too) is "declined", flagged for the parent
        return {"type": "error", "id": cid, "kind": "raised", "exception": type(e).__name__,
                "declined": isinstance(e, NotImplementedError),
                "message": str(e), "traceback": traceback.format_exc(limit=-8)}, []

    def violation(message):
        return {"type": "error", "id": cid, "kind": "contract", "message": message}, []

    for a, p, lab in zip(inputs, pristine, labels):
        if a is not None and not _same_bytes(np.ascontiguousarray(a), p):
            return violation(f"wrote into its input {lab}")
    if not isinstance(out, np.ndarray):
        return violation(f"returned {_qualname(out)}, not a numpy.ndarray")
    for a, lab in zip(inputs, labels):
        if a is not None and np.may_share_memory(out, a) and np.shares_memory(out, a):
            return violation(f"returned a view of its input {lab}")
    for k, earlier in enumerate(reversed(_RETURNED), 1):
        if np.may_share_memory(out, earlier) and np.shares_memory(out, earlier):
            return violation(f"returned memory that it already returned as the result of the call {k} before this one: "
                             "the implementation reuses its output buffer, so that earlier result is overwritten; "
                             "every call must return a new array")
    try:
        protocol.dtype_name(out.dtype)
    except ProtocolError:     # no op of the contract returns such a dtype
        return violation(f"returned dtype {out.dtype}, which is no dtype of the contract (the worker protocol "
                         f"carries {', '.join(protocol.DTYPES)})")
    _remember(out)
    return {"type": "result", "id": cid}, [("y", out)]


_RETURNED: list = []          # the latest results handed out (kept alive to see a reused output buffer)
RETURNED_BYTES = 16 << 20     # at most this many bytes of them


def _remember(out: np.ndarray):
    _RETURNED.append(out)
    while len(_RETURNED) > 16 or (len(_RETURNED) > 1 and sum(a.nbytes for a in _RETURNED) > RETURNED_BYTES):
        _RETURNED.pop(0)


def load(target: str) -> tuple[dict, dict]:
    """(ops, hello header) of ``target``; ImplError as :func:`load_impl` raises it."""
    be = load_impl(target)
    ops = {op: be.ops[op] for op in CONTRACT if op in be.ops}
    caps = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(be.caps).items()}
    return ops, {"type": "hello", "protocol": protocol.PROTOCOL, "name": be.name, "version": be.version,
                 "ops": sorted(ops), "capabilities": caps}


def serve(fin: int, fout: int, ops: dict, arena) -> int:
    """Answer call frames on ``fin``/``fout`` until 'bye' or end of file; the exit status."""
    reader = protocol.Reader(fin)
    while True:
        try:
            header, arrays = reader.read_frame(arena=arena)
        except PeerClosed:
            return 0
        except ProtocolError as e:      # out of step with the parent: say why, then stop
            protocol.send_frame(fout, {"type": "error", "id": None, "kind": "protocol",
                                       "message": f"the worker could not decode the parent's frame: {e}"})
            return 3
        kind = header["type"]
        if kind == "bye":
            return 0
        if kind != "call":
            reply = {"type": "error", "id": header.get("id"), "kind": "protocol", "message": f"unknown frame type {kind!r}"}, []
        else:
            reply = serve_call(ops, header, arrays)
        del arrays
        out_at = header.get("out_at")
        if arena is not None and isinstance(out_at, int):
            arena.follow(header.get("arena_size"))
            protocol.write_all(fout, protocol.encode(*reply, arena=arena, start=out_at))
        else:
            protocol.send_frame(fout, *reply)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m convspec.isolation.worker TARGET   (a dotted module or a .py file)", file=sys.stderr)
        return 2
    control = os.environ.pop(FORK_ENV, None)
    if control:
        return fork_server(argv[0], int(control))
    fin, fout = _take_stdio()
    try:
        ops, hello = load(argv[0])
    except ImplError as e:
        protocol.send_frame(fout, {"type": "fatal", "message": str(e)})
        return 2
    arena = _arena()
    protocol.send_frame(fout, dict(hello, features=FEATURES + (["arena"] if arena else [])))
    return serve(fin, fout, ops, arena)


# -- the fork server (used by convspec.isolation.supervisor for Python targets) ------------------------------------

def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def fork_server(target: str, fd: int) -> int:
    """Load ``target`` once, then fork a ready server for every socket the parent hands over.

    Control messages are JSON packets on the SOCK_SEQPACKET socket ``fd``: this side sends the hello
    (with ``"fork": false`` when loading the target started threads, which a fork does not carry over
    safely: the parent then starts servers as programs) or ``fatal``; the parent sends
    ``{"type": "fork"}`` with a socket attached (answer ``{"type": "forked", "pid": P}``: P serves the
    worker protocol on that socket, in a process group of its own), ``{"type": "reap", "pid": P,
    "timeout": T}`` (answer ``{"type": "reaped", "returncode": R}``, killing P after T seconds) and
    ``{"type": "bye"}``.
    """
    ctl = socket.socket(fileno=fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    warnings.filterwarnings("ignore", message=r".*fork\(\) may lead to deadlocks", category=DeprecationWarning)
    before = _threads()
    try:
        ops, hello = load(target)
    except ImplError as e:
        ctl.send(json.dumps({"type": "fatal", "message": str(e)}).encode())
        return 2
    arena = _arena()
    safe = _threads() <= before
    ctl.send(json.dumps(dict(hello, features=FEATURES + (["arena"] if arena else []), fork=safe)).encode())
    if not safe:
        return 0
    while True:
        msg, fds, _, _ = socket.recv_fds(ctl, 1 << 16, 4)
        if not msg:
            return 0
        m = json.loads(msg)
        if m["type"] == "fork" and len(fds) == 1:
            pid = os.fork()
            if pid == 0:
                ctl.close()
                _forked(fds[0], ops, arena)
            os.close(fds[0])
            ctl.send(json.dumps({"type": "forked", "pid": pid}).encode())
        elif m["type"] == "reap":
            pid, end = int(m["pid"]), time.monotonic() + float(m.get("timeout", 5))
            try:
                while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < end:
                    time.sleep(0.001)
                if done[0] == 0:
                    os.killpg(pid, 9)
                    done = os.waitpid(pid, 0)
                rc = os.waitstatus_to_exitcode(done[1])
            except (ChildProcessError, ProcessLookupError):
                rc = None
            ctl.send(json.dumps({"type": "reaped", "pid": pid, "returncode": rc}).encode())
        elif m["type"] == "bye":
            return 0
        else:
            for f in fds:
                os.close(f)
            ctl.send(json.dumps({"type": "error", "message": f"bad control message {m!r}"}).encode())


def _forked(fd: int, ops: dict, arena):
    """The body of a forked server: serve on ``fd``, then end the process with the status (never returns)."""
    code = 1
    try:
        os.setpgid(0, 0)
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None).prctl(1, 9)      # PR_SET_PDEATHSIG: die with the fork server
        code = serve(fd, fd, ops, arena)
    except SystemExit as e:                     # the implementation called sys.exit()
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, (int, type(None))):
            print(e.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _arena():
    """The shared arena the parent handed over (its fd in $CONVSPEC_ARENA_FD), or None."""
    fd = os.environ.pop(protocol.ARENA_ENV, None)
    if not fd:
        return None
    try:
        os.fstat(int(fd))
    except (ValueError, OSError):
        return None
    return protocol.Arena(int(fd))


if __name__ == "__main__":
    sys.exit(main())
