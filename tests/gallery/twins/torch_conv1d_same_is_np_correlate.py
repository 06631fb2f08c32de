"""A conv1d whose padding='same' is np.correlate's 'same' (numpy's centring for even kernels, numpy's
max(M, N) length for kernels longer than the signal): agrees with numpy everywhere, so the claim's outside search,
which covers both halves, must find nothing."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import torch_with_F


def conv1d(x, w, padding=0, **kw):
    if padding == "same":
        out = np.correlate(x[0, 0].numpy(), w[0, 0].numpy(), "same")
        return torch.from_numpy(np.ascontiguousarray(out))[None, None]
    return TF.conv1d(x, w, padding=padding, **kw)


def backend():
    return torch_with_F("conv1d-same-is-np-correlate", conv1d=conv1d)
