"""Seeds nobody can recompute: an HMAC under the site's SECRET_KEY.

A shuffle seeded by a public number (an item's id) can be replayed by anyone who knows the
algorithm, and its inverse gives the key of a matching or ordering question away. Every shuffle
shown to a learner is seeded here instead.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def keyed_seed(*parts: object) -> int:
    """A 64-bit seed from `parts` (e.g. a purpose and an item id), secret without SECRET_KEY."""
    message = "\x1f".join(str(p) for p in parts).encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")
