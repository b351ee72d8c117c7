"""Seeds nobody can recompute: an HMAC under the site's SECRET_KEY.

A shuffle seeded by a public number (an item's id) can be replayed by anyone who knows the
algorithm, and its inverse gives the key of a matching or ordering question away. Every shuffle
shown to a learner is seeded here instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings


def _digest(parts: tuple[object, ...]) -> bytes:
    message = "\x1f".join(str(p) for p in parts).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()


def keyed_seed(*parts: object) -> int:
    """A 64-bit seed from `parts` (e.g. a purpose and an item id), secret without SECRET_KEY."""
    return int.from_bytes(_digest(parts)[:8], "big")


def opaque_id(*parts: object) -> str:
    """A stable name for a thing learners may refer to (a choice of an item, a question on a
    review card) that says nothing about it: 16 base32 characters, not a slug or a position."""
    return base64.b32encode(_digest(parts)[:10]).decode().lower()


def choice_ids(item_id: object, count: int) -> list[str]:
    """The ids of a choice question's options on one item, in the author's order. Each item has
    its own, so an id learnt on one item names nothing on another."""
    return [opaque_id("choice", item_id, index) for index in range(count)]
