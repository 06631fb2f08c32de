"""Decide the CUDA mode before numba is imported: a real GPU, or numba's CUDA simulator.

NUMBA_ENABLE_CUDASIM=1 is set only when no GPU is found (and the user has not set it).
"""

from __future__ import annotations

import os
import shutil
import subprocess


def gpu_present() -> bool:
    if os.path.exists("/dev/nvidiactl") or os.path.exists("/dev/nvidia0"):
        return True
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            return subprocess.run([smi, "-L"], capture_output=True, timeout=10).returncode == 0
        except Exception:
            return False
    return False


def setup() -> str:
    """Set NUMBA_ENABLE_CUDASIM when needed; return the mode: 'device', 'simulator' or 'none'."""
    if "NUMBA_ENABLE_CUDASIM" not in os.environ and not gpu_present():
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    try:
        import numba.cuda  # noqa: F401  (lazy: an optional extra, imported after NUMBA_ENABLE_CUDASIM is set)
    except ImportError:
        return "none"
    return "simulator" if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" else "device"


def describe() -> str:
    mode = setup()
    if mode == "simulator":
        return "numba-cuda simulator (NUMBA_ENABLE_CUDASIM=1, no GPU found); torch-cuda skipped"
    if mode == "device":
        try:
            import torch  # lazy: torch is an optional extra (about 3 s to import)
            name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "torch sees no CUDA device"
        except Exception as e:  # pragma: no cover
            name = f"torch: {e}"
        return f"real device ({name})"
    return "none (numba-cuda not installed)"
