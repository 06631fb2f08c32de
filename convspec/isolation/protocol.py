"""The worker protocol ``convspec-worker/1``: framing shared by the parent and every server.

A frame is::

    b"CVSP"  |  uint32 little-endian H  |  H bytes: a UTF-8 JSON object (the header)  |  buffers

The header's ``"arrays"`` list (possibly empty) describes the buffers that follow, in order:
``{"name": str, "dtype": str, "shape": [int, ...]}``.  Each buffer holds exactly
``prod(shape) * itemsize(dtype)`` bytes, little-endian, C order, with nothing in between.  The dtype
names are numpy's (:data:`DTYPES`), plus ``"bfloat16"``: 2 bytes per element, the upper half of the
IEEE binary32 with the same value (``ml_dtypes.bfloat16`` on the Python side, never widened).  Every
dtype of :data:`convspec.model.problem.DTYPES` is one of them.  The messages themselves (hello, call, result,
error, bye) are documented in ``docs/PROTOCOL.md``; this module only frames, encodes and decodes them.

Both directions are blocking byte streams (the server's stdin and stdout).  The parent reads with a
deadline (:meth:`Reader.read_frame` with ``deadline``), which is how a hung server is detected.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import select
import struct
import time

import numpy as np

from convspec.errors import PeerClosed, ProtocolError, Timeout

MAGIC = b"CVSP"
PROTOCOL = "convspec-worker/1"
MAX_HEADER = 1 << 20
try:                                        # numpy >= 2; numpy 1.26 has it at the top level
    from numpy.lib.array_utils import byte_bounds
except ImportError:                         # pragma: no cover
    byte_bounds = np.byte_bounds
try:                                        # bfloat16 as a numpy dtype (a core dependency of convspec)
    from ml_dtypes import bfloat16 as _bfloat16
except ImportError:                         # pragma: no cover
    _bfloat16 = None

_NUMPY = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128")
DTYPES = _NUMPY[:9] + (("bfloat16",) if _bfloat16 is not None else ()) + _NUMPY[9:]
_LE = {name: np.dtype(_bfloat16 if name == "bfloat16" else name).newbyteorder("<") for name in DTYPES}
_NAME = {dt: name for name, dt in _LE.items()}


def dtype_name(dt) -> str:
    """The protocol name of numpy dtype ``dt`` (any byte order); ProtocolError if it has none."""
    name = _NAME.get(dt)
    if name is not None:
        return name
    try:
        dt = np.dtype(dt)
    except TypeError:
        raise ProtocolError(f"{dt!r} is not a numpy dtype: it cannot travel over the worker protocol") from None
    name = dt.name if dt.kind != "b" else "bool"
    if name not in _LE or dt.itemsize != _LE[name].itemsize:
        raise ProtocolError(f"dtype {dt} cannot travel over the worker protocol (it carries: {', '.join(DTYPES)})")
    return name


def byte_view(a: np.ndarray) -> memoryview:
    """The bytes of the C-ordered array ``a`` as a flat uint8 memoryview (no copy).  Goes through a
    uint8 view because numpy exports no buffer for some dtypes (``ml_dtypes.bfloat16``)."""
    return memoryview(a.reshape(-1).view(np.uint8)) if a.size else memoryview(b"")


def wire_array(a) -> np.ndarray:
    """``a`` as a C-ordered, little-endian array (a no-op for such arrays)."""
    a = np.asarray(a)
    if a.dtype not in _NAME:
        a = a.astype(_LE[dtype_name(a.dtype)])
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def encode(header: dict, arrays=(), arena: "Arena | None" = None, start: int = 0, layouts: bool = False,
           grow: int | None = None) -> list:
    """Frame ``header`` plus named ``arrays`` (pairs (name, ndarray)): a list of buffers to write in order.

    ``header["arrays"]`` is filled in from ``arrays``; buffers are memoryviews onto the arrays (no copy
    when they are already C-ordered little-endian).  With ``layouts`` (a server with the "layout"
    feature), an array that is not a plain C-ordered writable array of its own travels as the memory
    it views, with its offset and strides (:func:`layout_of`).

    With an ``arena``, buffers of at least :data:`ARENA_MIN` bytes are copied into it from offset
    ``start`` on (as far as it has room) and described by their offset ``at`` instead of travelling in
    the frame.  The parent passes ``grow`` (bytes to keep free for the result): the arena is then grown
    to fit, and the header gets ``arena_size`` and ``out_at`` -- unless nothing needs the arena.
    """
    items = []
    for name, a in arrays:
        lay = layout_of(a) if layouts else None
        if lay is None:
            try:
                a = wire_array(a)
            except ProtocolError as e:
                raise ProtocolError(f"array {name!r}: {e}") from None
            items.append((name, a, None, byte_view(a)))
        else:
            items.append((name, a, *lay))
    if arena is not None and grow is not None:
        need = sum(align(len(p)) for *_, p in items if len(p) >= ARENA_MIN)
        if need or grow:
            arena.ensure(start + max(need, grow))
            header = dict(header, arena_size=arena.size, out_at=start)
        else:
            arena = None
    descs, inline, pos = [], [], start
    for name, a, lay, payload in items:
        d = {"name": name, "dtype": dtype_name(a.dtype), "shape": list(a.shape)}
        if lay is not None:
            d["layout"] = lay
        n = len(payload)
        if arena is not None and n >= ARENA_MIN and pos + n <= arena.size:
            arena.put(pos, payload)
            d["at"] = pos
            pos = align(pos + n)
        elif n:
            inline.append(payload)
        descs.append(d)
    header = dict(header, arrays=descs)
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return [MAGIC + struct.pack("<I", len(text)) + text] + inline


def layout_of(a: np.ndarray):
    """(layout, bytes) for an array that is not plain -- a view, not C-ordered, or read-only: the memory
    it views (its base array's, when that is at most 4x larger plus 1 MiB) as a uint8 memoryview, and
    ``{"span", "offset", "strides", "readonly"}`` that rebuild it there.  None for a plain array, or
    one whose dtype is not little-endian native."""
    if not isinstance(a, np.ndarray) or a.dtype not in _NAME or a.dtype.byteorder == ">":
        return None
    if a.flags.c_contiguous and a.flags.writeable and a.base is None:
        return None
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    lo, hi = byte_bounds(root)
    if hi - lo > 4 * a.nbytes + (1 << 20):
        lo, hi = byte_bounds(a)
    if a.size == 0:
        lo = hi = a.__array_interface__["data"][0]
    span = memoryview((ctypes.c_char * (hi - lo)).from_address(lo)).cast("B") if hi > lo else memoryview(b"")
    lay = {"span": hi - lo, "offset": a.__array_interface__["data"][0] - lo, "strides": list(a.strides),
           "readonly": not a.flags.writeable}
    return lay, span


def _rebuild(dt, shape, lay: dict, span: np.ndarray) -> np.ndarray:
    try:
        a = np.ndarray(shape, dt, buffer=span, offset=int(lay["offset"]), strides=tuple(lay["strides"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ProtocolError(f"bad layout {lay!r} for shape {list(shape)}: {e}") from None
    if lay.get("readonly"):
        a.flags.writeable = False
    return a


def decode_header(prefix: bytes) -> int:
    """Length of the JSON header announced by the 8-byte frame ``prefix``."""
    if prefix[:4] != MAGIC:
        raise ProtocolError(f"expected a frame starting with {MAGIC!r}, got {bytes(prefix)[:8]!r}")
    (n,) = struct.unpack("<I", prefix[4:8])
    if n > MAX_HEADER:
        raise ProtocolError(f"header of {n} bytes is larger than the limit of {MAX_HEADER}")
    return n


def parse_header(text: bytes) -> dict:
    try:
        header = json.loads(bytes(text).decode())
    except (UnicodeDecodeError, ValueError) as e:
        raise ProtocolError(f"header is not UTF-8 JSON: {e}: {bytes(text)[:80]!r}") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ProtocolError(f"header is not a JSON object with a 'type': {bytes(text)[:80]!r}")
    return header


def array_specs(header: dict) -> list:
    """(name, little-endian dtype, shape, at, layout) of each array the header announces, validated;
    ``at`` is the array's offset in the shared arena, or None for a buffer that follows in the frame;
    ``layout`` a dict (feature "layout") or None."""
    out = []
    specs = header.get("arrays", [])
    if not isinstance(specs, list):
        raise ProtocolError("'arrays' must be a list")
    for s in specs:
        try:
            name, dt, shape = s.get("name", ""), s["dtype"], tuple(s["shape"])
        except (AttributeError, KeyError, TypeError):
            raise ProtocolError(f"bad array description {s!r}: needs 'dtype' and 'shape'") from None
        if dt not in _LE:
            raise ProtocolError(f"array {name!r}: unknown dtype {dt!r} (supported: {', '.join(DTYPES)})")
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise ProtocolError(f"array {name!r}: bad shape {list(shape)!r}")
        at = s.get("at")
        if at is not None and not (isinstance(at, int) and at >= 0):
            raise ProtocolError(f"array {name!r}: bad arena offset {at!r}")
        lay = s.get("layout")
        if lay is not None and not isinstance(lay, dict):
            raise ProtocolError(f"array {name!r}: bad layout {lay!r}")
        out.append((name, _LE[dt], shape, at, lay))
    return out


# -- I/O on file descriptors ---------------------------------------------------------------------------

def _wait(fd: int, events: int, deadline: float | None):
    p = select.poll()
    p.register(fd, events)
    while True:
        if deadline is None:
            p.poll()
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        if p.poll(max(1, int(left * 1000 + 0.999))):
            return


class Reader:
    """Buffered frame reader on ``fd`` (blocking or not): few system calls per frame, large buffers
    read straight into the arrays."""

    CHUNK = 1 << 16

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()

    def _fill(self, deadline):
        while True:
            try:
                data = os.read(self.fd, self.CHUNK)
            except BlockingIOError:
                _wait(self.fd, select.POLLIN, deadline)
                continue
            if not data:
                raise PeerClosed(len(self.buf))
            self.buf += data
            return

    def take(self, n: int, deadline: float | None = None) -> bytes:
        while len(self.buf) < n:
            self._fill(deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def take_into(self, view: memoryview, deadline: float | None = None):
        n = len(view)
        k = min(n, len(self.buf))
        view[:k] = self.buf[:k]
        del self.buf[:k]
        pos = k
        while pos < n:
            try:
                got = os.readv(self.fd, [view[pos:]])
            except BlockingIOError:
                _wait(self.fd, select.POLLIN, deadline)
                continue
            if got == 0:
                raise PeerClosed(pos)
            pos += got

    def read_frame(self, deadline: float | None = None, arena: "Arena | None" = None,
                   copy: bool = False) -> tuple[dict, list]:
        """One frame: (header, [(name, ndarray), ...]).  Arrays that followed in the frame, and every
        array with a layout, are fresh and writable (unless sent read-only); arrays placed in the
        ``arena`` are read-only views onto it (copies with ``copy``)."""
        header = parse_header(self.take(decode_header(self.take(8, deadline)), deadline))
        arrays = []
        for name, dt, shape, at, lay in array_specs(header):
            if lay is not None:
                n = lay.get("span")
                if not isinstance(n, int) or n < 0:
                    raise ProtocolError(f"array {name!r}: bad layout {lay!r}")
                span = np.empty(n, np.uint8)
                if at is not None:
                    span[:] = self._arena(arena, name).view(at, np.dtype(np.uint8), (len(span),),
                                                            header.get("arena_size"))
                elif len(span):
                    self.take_into(memoryview(span), deadline)
                arrays.append((name, _rebuild(dt, shape, lay, span)))
            elif at is not None:
                v = self._arena(arena, name).view(at, dt, shape, header.get("arena_size"))
                arrays.append((name, v.copy() if copy else v))
            else:
                a = np.empty(shape, dt)
                if a.nbytes:
                    self.take_into(byte_view(a), deadline)
                arrays.append((name, a))
        return header, arrays

    @staticmethod
    def _arena(arena, name):
        if arena is None:
            raise ProtocolError(f"array {name!r} lies in a shared arena, but none was set up")
        return arena


def write_all(fd: int, parts: list, deadline: float | None = None):
    """Write every buffer of ``parts`` to ``fd`` (blocking or not) with as few system calls as it takes.

    Raises BrokenPipeError when the peer is gone, Timeout past ``deadline``."""
    views = [memoryview(p).cast("B") for p in parts]
    small = sum(len(v) for v in views) <= Reader.CHUNK
    views = [memoryview(b"".join(views))] if small and len(views) > 1 else [v for v in views if len(v)]
    while views:
        try:
            n = os.writev(fd, views[:64])
        except BlockingIOError:
            _wait(fd, select.POLLOUT, deadline)
            continue
        while n and views:
            if n >= len(views[0]):
                n -= len(views.pop(0))
            else:
                views[0] = views[0][n:]
                n = 0


def send_frame(fd: int, header: dict, arrays=(), deadline: float | None = None):
    write_all(fd, encode(header, arrays), deadline)


# -- the optional shared arena (feature "arena") --------------------------------------------------------

ARENA_MIN = 1 << 16          # arrays smaller than this always travel in the frame
ARENA_ENV = "CONVSPEC_ARENA_FD"


def align(n: int) -> int:
    return (n + 63) & ~63


class Arena:
    """A shared memory file (a Linux memfd) mapped by both sides: large arrays are copied into it
    instead of through the pipe.  The parent grows it (``ensure``); the server maps as much of it as
    a frame's ``arena_size`` says (``view``)."""

    def __init__(self, fd: int, size: int = 0):
        self.fd, self.size, self.mm = fd, 0, None
        if size:
            self._map(size)

    @classmethod
    def create(cls) -> "Arena | None":
        """A fresh, empty arena, or None where the platform has no memfd."""
        if not hasattr(os, "memfd_create"):
            return None
        return cls(os.memfd_create("convspec-arena", os.MFD_CLOEXEC))

    def _map(self, size: int):
        self.mm, self.size = mmap.mmap(self.fd, size), size   # the old map lives on while views use it

    def ensure(self, size: int):
        """(parent) room for ``size`` bytes: grow the file to the next power of two and remap."""
        if size > self.size:
            new = 1 << max(22, (size - 1).bit_length())
            os.ftruncate(self.fd, new)
            self._map(new)

    def follow(self, size):
        """(server) map at least ``size`` bytes (the parent has grown the file that far)."""
        if size and size > self.size:
            self._map(size)

    def put(self, at: int, data):
        """Copy ``data`` (a C-ordered array or a byte buffer) into the arena at offset ``at``."""
        src = np.frombuffer(byte_view(data) if isinstance(data, np.ndarray) else memoryview(data).cast("B"), np.uint8)
        np.frombuffer(self.mm, np.uint8, len(src), at)[:] = src

    def view(self, at: int, dt, shape, size=None) -> np.ndarray:
        count = int(np.prod(shape, dtype=np.int64))
        end = at + count * dt.itemsize
        if end > self.size:
            if size is None or end > size:
                raise ProtocolError(f"array at offset {at} ends at {end}, past the arena's {size or self.size} bytes")
            self._map(size)
        v = np.frombuffer(self.mm, dt, count, at).reshape(shape)
        v.flags.writeable = False
        return v

    def close(self):
        self.mm = None
        os.close(self.fd)


def encode_param(v):
    """A contract keyword value as JSON: ints stay ints, pairs become 2-lists, strings stay strings."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (tuple, list, np.ndarray)):
        return [encode_param(e) for e in v]
    if v is None or isinstance(v, (str, float)):
        return v
    raise ProtocolError(f"parameter value {v!r} of type {type(v).__name__} cannot travel over the worker protocol")


def decode_param(v):
    """The inverse of :func:`encode_param` on the Python side: JSON lists become tuples."""
    return tuple(decode_param(e) for e in v) if isinstance(v, list) else v
