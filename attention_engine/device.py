"""Which torch device the torch route runs on: ``ATTN_DEVICE=auto|cpu|cuda``, resolved lazily.

Nothing here runs at import time: CUDA may only be touched inside a worker process after it
has forked (a CUDA context does not survive ``fork``), so callers ask for the device at the
moment they need it.
"""

from __future__ import annotations

import os
from typing import Any

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def requested_device() -> str:
    """The ``ATTN_DEVICE`` setting (default ``auto``); ``ValueError`` for anything else."""
    value = os.environ.get("ATTN_DEVICE", "auto").strip().lower() or "auto"
    if value not in DEVICE_CHOICES:
        raise ValueError(f"ATTN_DEVICE={value!r} is not one of {', '.join(DEVICE_CHOICES)}")
    return value


def resolve_device() -> Any:
    """A ``torch.device``: ``cuda`` when asked for (error if unavailable), or chosen by ``auto``."""
    import torch

    wanted = requested_device()
    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("ATTN_DEVICE=cuda but torch sees no CUDA device")
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(wanted)
