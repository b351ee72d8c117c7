"""A graded answer is announced the moment it is stored, so a waiting page shows it at once.

Grading publishes the submission's id on a Redis channel after its transaction commits
(`announce_graded`); a request that waits for a result (`wait_graded`, the long poll of
`GET /api/v1/submissions/{id}?wait=N` and of the practice page's result fragment) subscribes,
checks the row, and sleeps until the message comes or its time is up. A web process lets at
most `LONG_POLL_MAX_WAITERS` requests wait at once; beyond that a request answers at once and
its client polls again, so waiting never takes a site's threads away from other pages.

Without Redis (embedded mode) grading runs inside the request that stored the answer, so there
is never anything to wait for.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache

import redis
from django.conf import settings

log = logging.getLogger(__name__)

_waiters = threading.BoundedSemaphore(max(1, settings.LONG_POLL_MAX_WAITERS))
# A waiting request reads the row again this often, in case an announcement was lost.
RECHECK_SECONDS = 1.0


def _channel(submission_id: int) -> str:
    return f"quizsite:graded:{submission_id}"


@cache
def _redis():
    """For waiting: a read may block as long as the longest wait."""
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=settings.LONG_POLL_SECONDS + 5)


@cache
def _publisher():
    """For announcing, in the grading worker: a Redis that hangs costs a grade half a second."""
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)


def announce_graded(submission_id: int) -> None:
    """Tell whoever waits for this submission that it is graded (after the grade committed)."""
    if not settings.REDIS_URL:
        return
    try:
        _publisher().publish(_channel(submission_id), "graded")
    except Exception:  # a missed announcement costs a waiting client one poll, nothing else
        log.warning("could not announce graded submission %s", submission_id, exc_info=True)


def wait_graded(submission_id: int, is_pending, *, seconds: float) -> None:
    """Return when `is_pending()` is false, or after `seconds` (at most LONG_POLL_SECONDS), or at
    once when Redis is absent or this process has its fill of waiting requests."""
    seconds = min(max(seconds, 0.0), float(settings.LONG_POLL_SECONDS))
    if seconds <= 0 or not settings.REDIS_URL or not is_pending():
        return
    if not _waiters.acquire(blocking=False):
        return
    pubsub = None
    try:
        pubsub = _redis().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(_channel(submission_id))
        deadline = time.monotonic() + seconds
        # Graded between the caller's read and the subscription: the message was missed.
        while is_pending():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if pubsub.get_message(timeout=min(left, RECHECK_SECONDS)) is not None:
                return
    except Exception:  # Redis went away: the client polls again
        log.warning("waiting for submission %s failed", submission_id, exc_info=True)
    finally:
        _waiters.release()
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:
                pass
