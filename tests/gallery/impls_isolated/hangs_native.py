"""Correct, except that on inputs wider than 3 it spins forever in native code: a C loop, compiled
with the system C compiler when this module is imported and called through ctypes.  The in-process
SIGALRM guard cannot interrupt it; only killing the process ends it.  Without a C compiler it waits
instead on a child process that sleeps for an hour (a wait no Python signal handler interrupts
either)."""
import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _seam  # noqa: E402

CAPABILITIES = {"timeout": 0.3}
SOURCE = "void spin(void) { volatile unsigned long n = 0; for (;;) n++; }\n"


def _build():
    """ctypes handle of the compiled spin loop, or None without a compiler."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None
    tag = hashlib.sha1(SOURCE.encode()).hexdigest()[:12]
    lib = os.path.join(tempfile.gettempdir(), f"convspec-spin-{tag}-{os.getuid()}.so")
    if not os.path.exists(lib):
        with tempfile.TemporaryDirectory() as d:
            src, tmp = os.path.join(d, "spin.c"), os.path.join(d, "spin.so")
            with open(src, "w") as f:
                f.write(SOURCE)
            if subprocess.run([cc, "-O0", "-shared", "-fPIC", "-o", tmp, src], capture_output=True).returncode:
                return None
            os.replace(tmp, lib)
    return ctypes.CDLL(lib)


_LIB = _build()
HOW = "native C loop" if _LIB is not None else "wait on a sleeping child process (no C compiler)"


def conv2d(x, w, b=None, **kw):
    if _seam.past_seam(x):
        if _LIB is not None:
            _LIB.spin()
        else:
            subprocess.run([sys.executable, "-c", "import time; time.sleep(3600)"])
    return _seam._base.conv2d(x, w, b, **kw)
