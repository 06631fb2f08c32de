"""Process isolation: the implementation under test runs in a persistent child process (a worker).

:func:`load_isolated` starts a worker -- ``python -m convspec.isolation.worker TARGET`` for an ``--impl`` TARGET,
or any program that speaks the worker protocol (``--impl-cmd``, ``docs/PROTOCOL.md``) -- reads its
``hello`` and returns a :class:`~convspec.backends.base.Backend` whose ops are proxies with the contract's
signatures.  A proxy sends the arrays and keywords, waits for the result under the per-call time limit
and returns it as a numpy array of the dtype and shape the worker sent.  The suite's references,
strategies and comparisons stay in this (the parent) process.

What a native implementation does instead of raising becomes an ordinary, shrinkable failure, a
:class:`~convspec.errors.ContractViolation` naming what happened:

* the worker dies by a signal or an exit: ``"worker killed by SIGSEGV"``, ``"worker exited with
  status 3"``;
* it exceeds the optional memory limit (``RLIMIT_AS`` on the worker):
  ``"worker killed: exceeded memory limit of N MiB"``;
* no result within the time limit: the worker's whole process group is killed, native loops
  included: ``"no result after 2s: worker killed (hang)"``.

Two outcomes are not failures of the implementation.  ``NotImplementedError`` raised in the worker
(or a server's ``error`` reply naming it) is :class:`~convspec.errors.RemoteDeclined`: the implementation
declines that problem.  A call convspec cannot carry -- an array or parameter the protocol cannot encode
in this process, or a frame the worker cannot decode -- is :class:`~convspec.errors.TransportError`, the
suite's own error: the implementation was never called.  Every other exception stays a ContractViolation.

The next call goes to a fresh server, started at once.  For Python targets a *fork server* loads the
target once and forks each server from it, so a restart costs milliseconds, not an interpreter
start-up: shrinking a crash makes a hundred of them.  Shrinking a hang costs the time limit per step,
so an input that hung is not re-run (the second call fails at once, saying so), and once the hangs of
one episode have spent :data:`HANG_BUDGET` seconds the failure becomes :class:`~convspec.errors.Hang`,
which stops the search at the (partly shrunk) hanging input.

Workers belong to the process that started them: under ``pytest -n auto`` every xdist process starts
its own, lazily, and a worker never serves a forked copy of its parent.  Each proxy has
``enforces_timeout = True``: it enforces the limit itself, so the in-process guard arms no
``SIGALRM`` for it; an outer ``ITIMER_REAL`` timer found running is suspended during the call and
re-armed with its remaining time.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import dataclasses
import fcntl
import hashlib
import json
import os
import pickle
import resource
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace

import numpy as np

from convspec.backends.base import Backend, Capabilities
from convspec.errors import (
    ContractViolation,
    Hang,
    ImplError,
    PeerClosed,
    ProtocolError,
    RemoteDeclined,
    Timeout,
    TransportError,
    WorkerError,
)
from convspec.isolation import protocol
from convspec.model.contract import CONTRACT, LABELS, SHAPE_ARGS, SIGNAL_OPS

START_TIMEOUT = 120.0          # seconds a worker may take to load and say hello
CLOSE_GRACE = 1.0              # seconds a worker gets to exit after 'bye' before it is killed
PIPE_SIZE = 1 << 20            # pipe buffer asked of the kernel (fewer wake-ups for large arrays)
STDERR_TAIL = 400              # characters of the worker's stderr quoted in a crash message
HANG_BUDGET = 60.0             # seconds of time limits one shrinking episode of hangs may spend
HANG_QUIET = 30.0              # an episode ends after this many seconds without a hang
_MEMORY_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGKILL}
FORK_ENV = "CONVSPEC_FORK_FD"  # the fork server's control socket (see convspec/isolation/worker.py)


def describe_status(returncode: int, memory_limit_mb: float | None = None) -> str:
    """What a worker's exit status says: 'worker killed by SIGSEGV', 'worker exited with status 3'."""
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
            what = f"worker killed by {sig.name}"
        except ValueError:
            sig, what = None, f"worker killed by signal {-returncode}"
        if memory_limit_mb and sig in _MEMORY_SIGNALS:
            what += f" (under a memory limit of {memory_limit_mb:g} MiB: an allocation may have failed)"
        return what
    if returncode == 0:
        return "worker exited with status 0 without answering"
    return f"worker exited with status {returncode}"


def _prctl():
    """libc's prctl (resolved here, in the parent: a child between fork and exec must not dlopen)."""
    if sys.platform.startswith("linux"):
        try:
            return ctypes.CDLL(None).prctl
        except Exception:
            return None
    return None


_PRCTL = _prctl()


def _preexec(memory_limit_mb):
    """Run in the child before exec: the address-space limit, and (Linux) death with the parent
    (PR_SET_PDEATHSIG = 1, SIGKILL), so that no server outlives a killed test run."""
    limit = int(memory_limit_mb * (1 << 20)) if memory_limit_mb else None

    def setup():
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if _PRCTL is not None:
            _PRCTL(1, 9)
    return setup


def _killpg(pid: int):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class _Spawned:
    """A server started as its own program: the protocol on its stdin/stdout, reaped with waitpid."""

    def __init__(self, argv, env, log, memory_limit_mb, fds):
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                         start_new_session=True, close_fds=True, pass_fds=fds,
                                         preexec_fn=_preexec(memory_limit_mb))
        except FileNotFoundError:
            raise WorkerError(f"no such file: {argv[0]}") from None
        except PermissionError:
            raise WorkerError(f"not executable: {argv[0]}") from None
        except OSError as e:
            raise WorkerError(f"cannot start {argv[0]}: {e}") from None
        self.pid = self.proc.pid
        self.fd_in, self.fd_out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        for fd in (self.fd_in, self.fd_out):
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            except (AttributeError, OSError):
                pass
            os.set_blocking(fd, False)
        self.reader = protocol.Reader(self.fd_out)

    def reap(self, timeout: float = 5.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.wait()

    def kill(self):
        _killpg(self.pid)

    def release(self):
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class _Forked:
    """A server forked by the fork server from its loaded state: the protocol on a fresh socket."""

    def __init__(self, server: "_ForkServer", sock, pid: int):
        self.server, self.sock, self.pid = server, sock, pid
        self.fd_in = self.fd_out = sock.fileno()
        sock.setblocking(False)
        self.reader = protocol.Reader(self.fd_out)

    def reap(self, timeout: float = 5.0) -> int:
        rc = self.server.reap(self.pid, timeout)
        if rc is None:                  # the fork server is gone: so is this server (it dies with it)
            self.kill()
            return -signal.SIGKILL
        return rc

    def kill(self):
        _killpg(self.pid)       # its own process group: the server and anything it started

    def release(self):
        self.sock.close()


class _ForkServer:
    """``python -m convspec.isolation.worker TARGET`` with $CONVSPEC_FORK_FD: it loads TARGET once, says hello on a
    control socket, then forks a ready server for each socket it is handed (milliseconds, where a fresh
    interpreter takes hundreds of them) and reports how each one ended."""

    CONTROL_TIMEOUT = 30.0

    def __init__(self, argv, env, log, memory_limit_mb, fds):
        self.ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(env or os.environ, **{FORK_ENV: str(theirs.fileno())})
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                         start_new_session=True, close_fds=True, pass_fds=(theirs.fileno(), *fds),
                                         preexec_fn=_preexec(memory_limit_mb))
        except OSError as e:
            raise WorkerError(f"cannot start the fork server: {e}") from None
        finally:
            theirs.close()
        self.pid = self.proc.pid

    def receive(self, timeout: float) -> dict:
        """The next control message (WorkerError when the fork server is gone or silent)."""
        r, _, _ = select.select([self.ctl], [], [], timeout)
        data = self.ctl.recv(1 << 20) if r else None
        if data is None:
            self.kill()
            raise WorkerError(f"the fork server did not answer within {timeout:g}s: killed")
        if not data:
            rc = self.proc.wait()
            raise WorkerError(describe_status(rc) + " (the fork server)")
        return json.loads(data)

    def request(self, msg: dict, fds=(), timeout: float | None = None) -> dict:
        try:
            socket.send_fds(self.ctl, [json.dumps(msg).encode()], list(fds))
        except OSError as e:
            raise WorkerError(f"the fork server is gone ({e})") from None
        return self.receive(timeout or self.CONTROL_TIMEOUT)

    def fork(self) -> _Forked:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            for so in (ours, theirs):
                so.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_SIZE)
                so.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, PIPE_SIZE)
            reply = self.request({"type": "fork"}, [theirs.fileno()])
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        if reply.get("type") != "forked":
            ours.close()
            raise WorkerError(f"the fork server could not fork: {reply.get('message', reply)}")
        return _Forked(self, ours, int(reply["pid"]))

    def reap(self, pid: int, timeout: float) -> int | None:
        try:
            return self.request({"type": "reap", "pid": pid, "timeout": timeout}, timeout=timeout + 5).get("returncode")
        except WorkerError:
            return None

    def kill(self):
        _killpg(self.pid)
        self.proc.wait()

    def close(self):
        try:
            self.ctl.send(json.dumps({"type": "bye"}).encode())
            self.proc.wait(CLOSE_GRACE)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        self.ctl.close()


class Worker:
    """The worker of one implementation, owned by the process that created it.

    A Python target runs under a fork server when it can (Linux; loading the target started no
    threads; $CONVSPEC_WORKER_FORK is not 0): a crashed server is then replaced in milliseconds.
    Otherwise -- and always for an ``--impl-cmd`` -- each server is started as a program.
    """

    def __init__(self, argv: list, label: str, memory_limit_mb: float | None = None, env: dict | None = None,
                 forkable: bool = False):
        self.argv, self.label, self.memory_limit_mb, self.env = list(argv), label, memory_limit_mb, env
        self.forkable = (forkable and sys.platform.startswith("linux") and hasattr(socket, "send_fds")
                         and os.environ.get("CONVSPEC_WORKER_FORK", "1") != "0")
        self.server = None                # _ForkServer, when forking
        self.child = None                 # _Spawned / _Forked: the server answering calls
        self.hello: dict | None = None
        self.owner = os.getpid()
        self.starts = 0                   # servers started so far (1 + restarts)
        self._ids = 0
        self._log = None                  # the servers' stderr (a file opened for append)
        self._log_pos = 0
        self.arena = protocol.Arena.create()   # shared memory for large arrays, if the server wants it
        self._out_hint = 0                # bytes of the largest result seen (room kept for it in the arena)
        self.hang_budget = HANG_BUDGET
        self._hung = {}                   # (op, params, array layouts) -> digests of inputs that hung
        self._episode = [0.0, 0, None]    # seconds spent on hangs, hangs, time of the last one
        atexit.register(self.close)

    @property
    def pid(self) -> int | None:
        return None if self.child is None else self.child.pid

    @property
    def mode(self) -> str:
        return "fork" if self.server is not None else "spawn"

    # -- life cycle ---------------------------------------------------------------------------------

    def _adopt(self):
        """Forget processes and files inherited from another process (a fork of the owner)."""
        if self.owner != os.getpid():
            self.server = self.child = None
            self._log = None
            self.arena = protocol.Arena.create()
            self.owner = os.getpid()

    def _open_log(self):
        if self._log is None:
            self._log = tempfile.TemporaryFile(mode="a+b", prefix="convspec-worker-", suffix=".log")
        self._log.truncate(0)
        self._log_pos = 0

    def _fds(self):
        return (self.arena.fd,) if self.arena is not None else ()

    def _env(self):
        if self.arena is None:
            return self.env
        return dict(self.env or os.environ, **{protocol.ARENA_ENV: str(self.arena.fd)})

    def _start(self, greet: bool = True):
        """A new server; WorkerError if none can be had.  A server started as a program says hello,
        read here (``greet``) or by the next :meth:`ensure`, so that its start-up overlaps other work."""
        if self.server is not None:
            try:
                self.child = self.server.fork()
                self.starts += 1
                return
            except WorkerError:
                self.server.kill()
                self.server = None      # a new fork server below
        self._open_log()
        if self.forkable and (self.hello is None or self.hello.get("fork")):
            server = _ForkServer(self.argv, self._env(), self._log, self.memory_limit_mb, self._fds())
            try:
                hello = server.receive(START_TIMEOUT)
            except WorkerError as e:
                raise WorkerError(f"{e}{self._tail()}") from None
            if hello.get("type") == "fatal":
                server.proc.wait()
                raise WorkerError(str(hello.get("message", "fatal error without a message")))
            self.hello = hello
            if hello.get("fork"):
                self.server = server
                self.child = server.fork()
                self.starts += 1
                return
            server.close()              # loading started threads: forking it is not safe
            self._open_log()
        self.child = _Spawned(self.argv, self._env(), self._log, self.memory_limit_mb, self._fds())
        self.child.greeted = False
        self.starts += 1
        if greet:
            self._greet()

    def _greet(self):
        """Read a spawned server's hello (WorkerError if there is none)."""
        deadline = time.monotonic() + START_TIMEOUT
        try:
            header, _ = self.child.reader.read_frame(deadline)
        except Timeout:
            self._kill()
            raise WorkerError(f"no hello within {START_TIMEOUT:g}s: worker killed") from None
        except PeerClosed:
            rc = self._reap()
            raise WorkerError(f"{describe_status(rc, self.memory_limit_mb)} before its hello{self._tail()}") from None
        except ProtocolError as e:
            self._kill()
            raise WorkerError(f"did not say hello: {e}{self._tail()}") from None
        if header["type"] == "fatal":
            self._reap()
            raise WorkerError(str(header.get("message", "fatal error without a message")))
        if header["type"] != "hello":
            self._kill()
            raise WorkerError(f"sent a {header['type']!r} frame where its hello belongs")
        self.hello = dict(header, fork=False) if self.hello is None else dict(self.hello, **header)
        self.child.greeted = True

    def ensure(self):
        """A live server in this process: start one if there is none; WorkerError if it cannot be started."""
        self._adopt()
        if self.child is None:
            self._start()
        elif not getattr(self.child, "greeted", True):
            self._greet()

    def _reap(self) -> int:
        rc = self.child.reap()
        self._drop()
        return rc

    def _kill(self):
        if self.child is not None:
            self.child.kill()
            self._reap()

    def _drop(self):
        self.child.release()
        self.child = None

    def _respawn_soon(self):
        """Start the replacement now, so that it loads while the parent draws the next case."""
        try:
            self._start(greet=False)
        except WorkerError:
            self.child = None      # ensure() retries and reports

    def close(self):
        """Ask the server to exit ('bye'), kill it after a grace period.  Safe to call twice."""
        if self.owner != os.getpid():
            return
        if self.child is not None:
            try:
                protocol.send_frame(self.child.fd_in, {"type": "bye"}, deadline=time.monotonic() + CLOSE_GRACE)
            except (OSError, Timeout):
                pass
            if isinstance(self.child, _Spawned):
                try:
                    self.child.proc.stdin.close()
                    self.child.proc.wait(CLOSE_GRACE)
                except (OSError, subprocess.TimeoutExpired):
                    self.child.kill()
                self._reap()
            else:
                self.child.kill()
                self._drop()
        if self.server is not None:
            self.server.close()
            self.server = None

    # -- the servers' stderr --------------------------------------------------------------------------

    def _new_stderr(self) -> bytes:
        if self._log is None:
            return b""
        end = os.fstat(self._log.fileno()).st_size
        if end <= self._log_pos:
            return b""
        data = os.pread(self._log.fileno(), end - self._log_pos, self._log_pos)
        self._log_pos = end
        return data

    def _forward(self, data: bytes):
        """Hand the implementation's own stderr output to ours (pytest captures it per test)."""
        if data:
            try:
                sys.stderr.write(data.decode(errors="replace"))
            except Exception:
                pass
        if self._log_pos > (1 << 20):
            self._log.truncate(0)
            self._log_pos = 0

    def _tail(self, data: bytes | None = None) -> str:
        data = self._new_stderr() if data is None else data
        text = data.decode(errors="replace").strip()
        if not text:
            return ""
        lines = text.splitlines()[-3:]
        return " -- worker stderr: " + " | ".join(lines)[-STDERR_TAIL:]

    # -- one call -------------------------------------------------------------------------------------

    def call(self, what: str, op: str, arrays: list, params: dict, timeout: float | None) -> np.ndarray:
        """Run ``op`` in the worker; ``what`` ('impl.conv2d') starts every message.

        Every failure is raised from this one line, with no exception context: hypothesis tells bugs
        apart by where their exception (and its context chain) was raised, and a crash, a hang and a
        memoised hang of the same input must read as one bug while it shrinks them."""
        __tracebackhide__ = True
        out = self._call(what, op, arrays, params, timeout)
        if isinstance(out, BaseException):
            raise out
        return out

    def _call(self, what, op, arrays, params, timeout):
        try:
            self.ensure()
        except WorkerError as e:
            return ContractViolation(f"{what} crashed: the worker could not be restarted: {e}", fault="crashed")
        features = self.hello.get("features") or ()
        arena = self.arena if "arena" in features else None
        try:
            header = {"type": "call", "id": self._ids + 1, "op": op, "params": {}}
            for k, v in params.items():
                try:
                    header["params"][k] = protocol.encode_param(v)
                except ProtocolError as e:
                    raise ProtocolError(f"parameter {k!r}: {e}") from None
            if "pyparams" in features:          # the Python server gets the parameters as they were passed
                header["pyparams"] = base64.b64encode(pickle.dumps(params)).decode()
            frame = protocol.encode(header, arrays, arena, layouts="layout" in features, grow=self._out_hint)
        except ProtocolError as e:    # nothing was sent: the implementation was not called
            return TransportError(f"{what}: convspec cannot send this call to the worker (parent side, encoding "
                                  f"the call): {e} -- a limit of convspec's worker boundary, not a fault of the "
                                  "implementation, which was not called")
        self._ids += 1

        def shape_key():
            return op, repr(sorted(header["params"].items())), tuple((n, a.dtype.str, a.shape) for n, a in arrays)

        if self._hung and shape_key() in self._hung and _digest(arrays) in self._hung[shape_key()]:
            return ContractViolation(f"{what} hung: no result after {timeout:g}s: worker killed (hang) -- this input "
                                     "hung before and is not run again", fault="hung")
        child = self.child
        saved = _suspend_alarm()
        deadline = time.monotonic() + timeout if timeout else None
        try:
            protocol.write_all(child.fd_in, frame, deadline)
            reply, outs = child.reader.read_frame(deadline, arena, copy=True)
        except Timeout:
            self._kill()
            tail = self._tail()
            self._respawn_soon()
            self._hung.setdefault(shape_key(), set()).add(_digest(arrays))
            return self._hang(f"{what} hung: no result after {timeout:g}s: worker killed (hang){tail}", timeout)
        except (PeerClosed, BrokenPipeError, ConnectionResetError):
            rc = self._reap()
            tail = self._tail()
            self._respawn_soon()
            return ContractViolation(f"{what} crashed: {describe_status(rc, self.memory_limit_mb)}{tail}", fault="crashed")
        except ProtocolError as e:
            self._kill()
            tail = self._tail()
            self._respawn_soon()
            return ContractViolation(f"{what}: the worker broke the protocol (parent side, decoding its reply): "
                                     f"{e}{tail}", fault="protocol")
        except BaseException:          # interrupted (KeyboardInterrupt, an outer timer): the stream is out of step
            self._kill()
            raise
        finally:
            _resume_alarm(saved)
        self._forward(self._new_stderr())
        if reply.get("type") == "error" and reply.get("kind") == "protocol":
            self._kill()               # the server could not read the call: the stream is out of step
            tail = self._tail()
            self._respawn_soon()
            return TransportError(f"{what}: the worker could not decode the call (worker side): "
                                  f"{reply.get('message', '')} -- the implementation was not called{tail}")
        if reply.get("id") != self._ids:
            self._kill()
            self._respawn_soon()
            return ContractViolation(f"{what}: the worker answered call {reply.get('id')!r}, not call {self._ids}",
                                     fault="protocol")
        if reply["type"] == "result":
            if len(outs) != 1:
                return ContractViolation(f"{what}: the worker returned {len(outs)} arrays, not one", fault="protocol")
            y = outs[0][1]
            if self.arena is not None and y.nbytes >= protocol.ARENA_MIN:
                self._out_hint = max(self._out_hint, protocol.align(y.nbytes))
            return y
        if reply["type"] == "error":
            return self._error(what, reply)
        self._kill()
        self._respawn_soon()
        return ContractViolation(f"{what}: the worker sent a {reply['type']!r} frame where a result belongs", fault="protocol")

    def _hang(self, message: str, timeout: float) -> BaseException:
        """The failure for a hang: a ContractViolation (shrunk like any failure) while the episode's hang
        budget lasts; past it, :class:`~convspec.errors.Hang`, which stops the search at this input (every
        further shrinking step that hangs would cost the whole time limit again)."""
        spent, count, last = self._episode
        now = time.monotonic()
        if last is None or now - last > HANG_QUIET + timeout:
            spent, count = 0.0, 0
        spent, count = spent + timeout, count + 1
        self._episode = [spent, count, now]
        if self.hang_budget is not None and spent >= self.hang_budget:
            self._episode = [0.0, 0, None]
            return Hang(f"{message}; shrinking stopped here: {count} hangs spent the hang budget of "
                        f"{self.hang_budget:g}s")
        return ContractViolation(message, fault="hung")

    def _error(self, what: str, reply: dict) -> Exception:
        kind, msg = reply.get("kind"), str(reply.get("message", ""))
        if kind == "raised" and _declined(reply):
            return RemoteDeclined(what, str(reply.get("exception")), msg, traceback=str(reply.get("traceback", "")))
        if kind == "memory" and self.memory_limit_mb:
            self._kill()               # its heap may be in any state: start afresh
            self._respawn_soon()
            e = ContractViolation(f"{what} crashed: worker killed: exceeded memory limit of {self.memory_limit_mb:g} MiB "
                                  f"({reply.get('exception', 'MemoryError')}: {msg})", fault="crashed")
        elif kind in ("raised", "memory"):
            e = ContractViolation(f"{what} raised {reply.get('exception') or 'an error'}: {msg}", fault="raised",
                                  exception=str(reply.get("exception") or "Exception"))
        elif kind == "contract":
            e = ContractViolation(f"{what} {msg}", fault="wrote" if msg.startswith("wrote into") else "returned")
        else:
            e = ContractViolation(f"{what}: the worker reported a {kind or 'unknown'} error: {msg}", fault="protocol")
        e.remote_traceback = reply.get("traceback", "")
        return e


def _declined(reply: dict) -> bool:
    """Whether a 'raised' error reply means "declined": its ``declined`` flag (the Python worker sets it
    for NotImplementedError and its subclasses), else an ``exception`` named NotImplementedError."""
    if "declined" in reply:
        return reply["declined"] is True
    return reply.get("exception") == "NotImplementedError"


def _digest(arrays) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for _, a in arrays:
        h.update(protocol.wire_array(a).reshape(-1).view(np.uint8))
    return h.digest()


# -- the outer ITIMER_REAL timer -----------------------------------------------------------------------

def _suspend_alarm():
    """Stop a running ITIMER_REAL timer for the duration of a call (the proxy enforces its own limit).

    Returns what :func:`_resume_alarm` needs to restore it.  The in-process guard's own alarm (armed
    by :func:`convspec.model.contract.guarded_call` around this proxy) is cancelled for good: the proxy's limit
    replaces it.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "getitimer"):
        return None
    left, interval = signal.getitimer(signal.ITIMER_REAL)
    if left <= 0:
        return None
    signal.setitimer(signal.ITIMER_REAL, 0)
    handler = signal.getsignal(signal.SIGALRM)
    own = getattr(handler, "__module__", None) == "convspec.model.contract" or (
        getattr(handler, "__qualname__", "").startswith("_call_with_timeout."))
    return None if own else (left, interval, time.monotonic())


def _resume_alarm(saved):
    if saved is None:
        return
    left, interval, t0 = saved
    signal.setitimer(signal.ITIMER_REAL, max(left - (time.monotonic() - t0), 1e-3), interval)


# -- the backend ---------------------------------------------------------------------------------------

@dataclass(repr=False, eq=False)
class IsolatedBackend(Backend):
    """A :class:`Backend` whose ops run in a worker process (:class:`Worker`)."""

    worker: Worker | None = None

    def close(self):
        """Stop the worker (it is started again by the next call)."""
        if self.worker is not None:
            self.worker.close()


def _proxies(be: IsolatedBackend, ops) -> dict:
    """One proxy per op: the op's arrays (contract.LABELS) travel as arrays, everything else -- the
    parameters, and a gradient op's shape argument (contract.SHAPE_ARGS) -- as params."""
    def run(op, arrays, params):
        __tracebackhide__ = True
        arrays = [(n, np.asarray(a)) for n, a in arrays if a is not None]
        return be.worker.call(f"{be.name}.{op}", op, arrays, params, be.caps.timeout)

    def make(op):
        labels = LABELS[op]
        shape = SHAPE_ARGS.get(op)

        def proxy(*args, **params):
            __tracebackhide__ = True
            args = list(args)
            if shape is not None:
                params = {shape[0]: args.pop(shape[1]), **params}
            named = dict(zip(labels, args))
            extra = args[len(labels):]
            if extra:                          # a signal op's mode, passed positionally
                if op not in SIGNAL_OPS or len(extra) > 1:
                    raise TypeError(f"{op}() takes {len(labels)} positional array arguments, got {len(args)}")
                params = {"mode": extra[0], **params}
            for lab in labels:
                if lab in params:
                    named[lab] = params.pop(lab)
            if params.get("padding_mode", None) == "zeros":   # only when used: servers without modes see no change
                params.pop("padding_mode")
            return run(op, [(lab, named.get(lab)) for lab in labels], params)
        return proxy

    out = {}
    for op in ops:
        fn = make(op)
        fn.enforces_timeout = True
        fn.__qualname__ = f"{be.name}.{op} (isolated)"
        out[op] = fn
    return out


# ``python -m convspec.isolation.worker TARGET`` in a checkout, ``python -m convspec.isolation.worker TARGET`` once installed:
# the child imports the worker under the package name this process uses, else under the folder's name.
_BOOT = ("import sys\ntry:\n    import {pkg}.worker as w\nexcept ImportError:\n    import convspec.isolation.worker as w\n"
         "sys.exit(w.main())")


def _python_env() -> dict:
    """The environment of a Python worker: this process's import path, so the target resolves alike."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = [root] + [os.path.abspath(p or os.curdir) for p in sys.path if isinstance(p, str)]
    seen, keep = set(), []
    for p in paths:
        if p not in seen and os.path.isdir(p):
            seen.add(p)
            keep.append(p)
    return dict(os.environ, PYTHONPATH=os.pathsep.join(keep))


def load_isolated(target: str | None = None, *, cmd: str | None = None, timeout: float | None = None,
                  memory_limit_mb: float | None = None) -> Backend:
    """Start a worker for ``target`` (an ``--impl`` TARGET) or ``cmd`` (an ``--impl-cmd`` command line)
    and return its backend.

    ``timeout`` overrides the per-call limit the worker declares (``CAPABILITIES["timeout"]``);
    ``memory_limit_mb`` caps the worker's address space.  Load errors raise
    :class:`~convspec.errors.ImplError` with the messages of :func:`~convspec.backends.base.load_impl`.
    """
    if (target is None) == (cmd is None):
        raise ValueError("load_isolated: give exactly one of target and cmd")
    if memory_limit_mb is not None and memory_limit_mb <= 0:
        raise ImplError(f"--memory-limit must be a positive number of MiB, not {memory_limit_mb!r}")
    if target is not None:
        label = f"--impl {target}"
        argv, env = [sys.executable, "-c", _BOOT.format(pkg=__package__), target], _python_env()
    else:
        label = f"--impl-cmd {cmd}"
        argv, env = shlex.split(cmd), None
        if not argv:
            raise ImplError("--impl-cmd: empty command")
    worker = Worker(argv, label, memory_limit_mb, env, forkable=target is not None)
    try:
        worker.ensure()
    except WorkerError as e:
        msg = str(e)
        raise ImplError(msg if msg.startswith(label) else f"{label}: {msg}") from None
    hello = worker.hello
    if hello.get("protocol") != protocol.PROTOCOL:
        worker.close()
        raise ImplError(f"{label}: speaks protocol {hello.get('protocol')!r}, expected {protocol.PROTOCOL!r}")
    ops = hello.get("ops") or []
    if not isinstance(ops, list) or any(op not in CONTRACT for op in ops):
        worker.close()
        raise ImplError(f"{label}: hello lists ops {ops!r}; the contract has {', '.join(CONTRACT)}")
    if not ops:
        worker.close()
        raise ImplError(f"{label}: defines none of the contract ({', '.join(CONTRACT)})")
    caps_dict = hello.get("capabilities") or {}
    if not isinstance(caps_dict, dict):
        worker.close()
        raise ImplError(f"{label}: CAPABILITIES must be a dict")
    try:
        caps = Capabilities.from_dict(caps_dict, source=f"{label}: CAPABILITIES")
    except (ImplError, TypeError) as e:
        worker.close()
        raise ImplError(str(e) if isinstance(e, ImplError) else f"{label}: CAPABILITIES: {e}") from None
    if timeout is not None:
        caps = replace(caps, timeout=timeout)
    origin = target if target is not None else cmd
    be = IsolatedBackend(name=str(hello.get("name") or "impl"), ops={}, caps=caps, library=origin,
                         version=str(hello.get("version") or ""), origin=origin, worker=worker)
    be.ops = _proxies(be, [op for op in CONTRACT if op in ops])
    args = ("--impl", target) if target is not None else ("--impl-cmd", cmd)
    args += (("--call-timeout", f"{timeout:g}") if timeout else ()) + (
        ("--memory-limit", f"{memory_limit_mb:g}") if memory_limit_mb else ())
    if "repro_args" in {f.name for f in dataclasses.fields(be)}:
        be.repro_args = args                   # how a repro command recreates this backend
    return be
