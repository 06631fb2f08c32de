"""torch's padding='same' with the extra element of an even kernel at the start (torch puts it at the end)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from tests.gallery.twins._base import with_ops


def conv2d_same(x, w, b=None, *, dilation=1):
    d = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    th, tw = d[0] * (w.shape[2] - 1), d[1] * (w.shape[3] - 1)
    xp = np.pad(x, ((0, 0), (0, 0), (th - th // 2, th // 2), (tw - tw // 2, tw // 2)))
    return TF.conv2d(torch.from_numpy(xp), torch.from_numpy(w), dilation=d).numpy()


def backend():
    return with_ops("torch", "same-extra-at-start", **{"torch.conv2d_same": conv2d_same})
