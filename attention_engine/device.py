"""Which torch device the torch route runs on: ``ATTN_DEVICE=auto|cpu|cuda``, resolved lazily.

Nothing here runs at import time: CUDA may only be touched inside a worker process after it
has forked (a CUDA context does not survive ``fork``), so callers ask for the device at the
moment they need it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from typing import Any

DEVICE_CHOICES = ("auto", "cpu", "cuda")

# Set by ``using_device`` for the extent of one call (a batch run with ``device="cuda"``);
# ``None`` = follow ``ATTN_DEVICE``.
_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("attention_engine_device", default=None)


def check_device(value: str) -> str:
    """``value`` when it is one of ``DEVICE_CHOICES``; ``ValueError`` otherwise."""
    if value not in DEVICE_CHOICES:
        raise ValueError(f"device {value!r} is not one of {', '.join(DEVICE_CHOICES)}")
    return value


def requested_device() -> str:
    """The device asked for: ``using_device``'s, else ``ATTN_DEVICE`` (default ``auto``)."""
    override = _override.get()
    if override is not None:
        return override
    value = os.environ.get("ATTN_DEVICE", "auto").strip().lower() or "auto"
    if value not in DEVICE_CHOICES:
        raise ValueError(f"ATTN_DEVICE={value!r} is not one of {', '.join(DEVICE_CHOICES)}")
    return value


@contextlib.contextmanager
def using_device(value: str) -> Iterator[None]:
    """Run the torch route on ``value`` (``cpu``/``cuda``) inside the block; ``auto`` leaves
    the choice to ``ATTN_DEVICE``. Touches no CUDA itself."""
    if check_device(value) == "auto":
        yield
        return
    token = _override.set(value)
    try:
        yield
    finally:
        _override.reset(token)


def resolve_device() -> Any:
    """A ``torch.device``: ``cuda`` when asked for (error if unavailable), or chosen by ``auto``."""
    import torch

    wanted = requested_device()
    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for (ATTN_DEVICE or device=) but torch sees no CUDA device")
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(wanted)
