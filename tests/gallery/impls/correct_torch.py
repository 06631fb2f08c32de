"""A correct implementation: the contract wrapped around torch (CPU).  Must pass every claim."""
import numpy as np
import torch
import torch.nn.functional as F

NAME = "correct-torch"


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    t = F.conv2d(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(w)),
                 None if b is None else torch.from_numpy(np.ascontiguousarray(b)),
                 stride=_pair(stride), padding=_pair(padding), dilation=_pair(dilation), groups=groups)
    return t.numpy().copy()
