"""PyTensor (``pytensor.tensor.signal.convolve2d``) as an ``--impl`` module: the contract's ``convolve2d``.

PyTensor 2.38 ships no CNN convolution: ``pytensor.tensor.conv`` (the Theano-era ``abstract_conv.conv2d``
with its own C implementation) is gone from the package; what it has is the signal convolutions
``pytensor.tensor.signal.convolve1d`` (a C op over numpy's correlate) and ``convolve2d`` (an Op whose
``perform`` calls ``scipy.signal.convolve`` in 'full' or 'valid'; 'same' is built in the graph as a zero pad
of in1 by (P//2, (P-1)//2) per axis followed by 'valid').  There is no ``correlate2d``.

convolve2d(a, k, mode) compiles one ``pytensor.function`` per (dtypes, mode) (shapes stay symbolic) and
evaluates it; the graph's rewrites are PyTensor's own.  Source: pytensor/tensor/signal/conv.py
(``convolve2d`` and its docstring), https://pytensor.readthedocs.io/en/latest/library/tensor/signal.html.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.tensor.signal import convolve2d as _pt_convolve2d

NAME = "zoo-pytensor"
__version__ = importlib.metadata.version("pytensor")
assert pytensor is not None

# f64 only: convolve2d returns float64 for float32 inputs (measured in the zoo audit); accuracy fast: perform calls
# scipy.signal.convolve with method auto (an FFT when large); the first call of a (dtype, mode) compiles C (minutes)
CAPABILITIES = {"dtypes": ["f64"], "accuracy": "fast", "timeout": 400}

#: departures of PyTensor from the contract, found by convspec (see docs/repros/pytensor_*.py)
DEPARTURES: dict = {}

_FN: dict = {}


def _function(dta, dtk, mode):
    key = (dta, dtk, mode)
    if key not in _FN:
        a = pt.matrix("a", dtype=dta)
        k = pt.matrix("k", dtype=dtk)
        _FN[key] = pytensor.function([a, k], _pt_convolve2d(a, k, mode=mode))
    return _FN[key]


def convolve2d(a, k, mode="full"):
    """pytensor.tensor.signal.convolve2d(a, k, mode) (boundary 'fill', fill value 0, method 'auto')."""
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"mode={mode!r}: expected 'full', 'same' or 'valid'")
    a, k = np.asarray(a), np.asarray(k)
    out = _function(a.dtype.name, k.dtype.name, mode)(a, k)
    return np.array(out, copy=True)
