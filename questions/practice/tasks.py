"""Celery tasks of practice, and the helpers that enqueue them.

Tasks are thin: they take ids, re-read rows and call a job (`questions.practice.jobs`). Every task
is idempotent, so messages are acknowledged late and redelivered if a worker dies. Task names are
fixed (`questions.tasks.<name>`): routes, beat and messages already in a queue keep working when a
module moves.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, transaction

from questions.errors import Preparing, ServiceUnavailable
from questions.practice import dispatch
from questions.practice.jobs import (
    GRADE_BURST,
    AnsweredWithCode,
    code_examples_grade,
    code_submission_grade,
    submission_grade,
    submissions_grade,
    submissions_mark_stale,
    variants_generate,
    variants_generate_for_seeds,
)
from questions.practice.models import CODE_KIND_NAMES, Submission
from questions.practice.selectors import stock_missing

log = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="questions.tasks.grade_submission", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=30, time_limit=60, **RETRY)
def grade_submission(submission_id: int) -> str:
    try:
        return submission_grade(submission_id=submission_id).status
    except AnsweredWithCode:  # a message from before the code queue, or misrouted: never run here
        enqueue_grading(submission_id, code=True)
        return "sent to the code worker"


# Learner code runs only on the code worker (CELERY_TASK_ROUTES sends these two to CODE_QUEUE),
# each run in a fresh sandbox; its time limits leave room for the sandbox's own (10 s of wall
# time a run) and a cold start.
@shared_task(name="questions.tasks.grade_code_submission", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=60, time_limit=90, **RETRY)
def grade_code_submission(submission_id: int) -> str:
    return code_submission_grade(submission_id=submission_id, device=settings.CODE_DEVICE).status


@shared_task(name="questions.tasks.run_code_examples", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=30, time_limit=45, expires=60)
def run_code_examples(*, item_id: int, code: str) -> dict:
    """The "Run examples" button: nothing is stored; a message nobody waits for any more expires."""
    return code_examples_grade(item_id=item_id, code=code, device=settings.CODE_DEVICE)


@shared_task(name="questions.tasks.grade_submissions", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=60, time_limit=90, **RETRY)
def grade_submissions(submission_ids: list[int]) -> dict[int, str]:
    """A burst (the sweep's) graded through the engine's batch API; each still exactly once."""
    return submissions_grade(submission_ids=submission_ids)


@shared_task(name="questions.tasks.generate_variants", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=60, time_limit=90, **RETRY)
def generate_variants(*, kind: str, difficulty: str, count: int = 1) -> list[int]:
    return variants_generate(kind=kind, difficulty=difficulty, count=count)


@shared_task(name="questions.tasks.refill_stock", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=300, time_limit=360, **RETRY)
def refill_stock(*, kind: str, difficulty: str) -> int:
    """Top the stock up to VARIANT_STOCK_TARGET once it has fallen to VARIANT_STOCK_LOW, in one
    batch: the engine makes many variants far faster than one at a time."""
    missing = stock_missing(kind=kind, difficulty=difficulty)
    if settings.VARIANT_STOCK_TARGET - missing > settings.VARIANT_STOCK_LOW:
        return 0
    return len(variants_generate(kind=kind, difficulty=difficulty, count=missing))


@shared_task(name="questions.tasks.sweep_pending_submissions", acks_late=True, soft_time_limit=30, time_limit=60)
def sweep_pending_submissions() -> int:
    return len(submissions_sweep())


@shared_task(name="questions.tasks.generate_seeded_variants", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=60, time_limit=90, **RETRY)
def generate_seeded_variants(*, kind: str, difficulty: str, seeds: list[int]) -> list[int]:
    """The variants of these exact seeds (a quiz's deterministic draws); made once, found after."""
    return variants_generate_for_seeds(kind=kind, difficulty=difficulty, seeds=seeds)


def submissions_sweep(*, stale_after: timedelta | None = None) -> list[int]:
    """Re-enqueue submissions left pending (worker killed, Redis restarted). Returns their ids.

    Re-enqueueing a submission that is in fact still queued is harmless: grading is idempotent.
    """
    stale = submissions_mark_stale(stale_after=stale_after)
    code = set(Submission.objects.filter(id__in=stale, item__variant__kind__in=CODE_KIND_NAMES).values_list("id", flat=True))
    for submission_id in code:  # one by one: each runs in a sandbox of its own
        transaction.on_commit(lambda sid=submission_id: enqueue_grading(sid, code=True))
    stale = [sid for sid in stale if sid not in code]
    if len(stale) == 1:
        transaction.on_commit(lambda: enqueue_grading(stale[0]))
    else:  # a burst (a worker died, Redis restarted): graded in bulk, GRADE_BURST per message
        for start in range(0, len(stale), GRADE_BURST):
            transaction.on_commit(lambda ids=stale[start:start + GRADE_BURST]: enqueue_burst(ids))
    return stale + sorted(code)


def worker_result(task, *, unavailable: str, **kwargs: Any) -> Any:
    """Run a task in the worker and wait for it, at most VARIANT_SYNC_TIMEOUT_SECONDS (2 s: no
    request holds a web process longer). Still running then: `Preparing` (202), and the task goes
    on, so the same request succeeds a moment later. A broker that is down or a failure in the
    task: ServiceUnavailable(`unavailable`), 503."""
    try:
        result = task.delay(**kwargs)
    except Exception as exc:
        log.exception("could not send %s(%s)", task.name, kwargs)
        raise ServiceUnavailable(unavailable) from exc
    return _awaited(result, seconds=settings.VARIANT_SYNC_TIMEOUT_SECONDS, unavailable=unavailable,
                    preparing="The problem is being prepared; ask again in a moment.")


def _awaited(result, *, seconds: float, unavailable: str, preparing: str) -> Any:
    try:
        return result.get(timeout=seconds, propagate=True)
    except CeleryTimeoutError as exc:
        raise Preparing(preparing) from exc
    except Exception as exc:
        log.exception("the worker did not complete task %s", result.id)
        raise ServiceUnavailable(unavailable) from exc


CODE_RUN_REUSE_SECONDS = 120  # a run of the same code on the same item is awaited, not sent again


def code_examples_result(*, item_id: int, code: str) -> dict:
    """The "Run examples" button, run on the code worker and waited for at most
    CODE_RUN_WAIT_SECONDS; `Preparing` (202) after that. The same code on the same item within
    CODE_RUN_REUSE_SECONDS waits for the run already sent (its id is kept in the cache) instead of
    sending another: the page asks again after a 202, and a learner may press the button twice."""
    key = f"code-run:{item_id}:{hashlib.sha256(code.encode('utf-8')).hexdigest()}"
    unavailable = "The code worker did not answer; your code was not run. Try again in a moment."
    task_id = cache.get(key)
    try:
        if task_id:
            result = run_code_examples.AsyncResult(task_id)
        else:
            result = run_code_examples.delay(item_id=item_id, code=code)
            if not settings.CELERY_TASK_ALWAYS_EAGER:  # an in-process run is over already
                cache.set(key, result.id, CODE_RUN_REUSE_SECONDS)
    except Exception as exc:
        log.exception("could not send the examples of item %s", item_id)
        raise ServiceUnavailable(unavailable) from exc
    try:
        return _awaited(result, seconds=settings.CODE_RUN_WAIT_SECONDS, unavailable=unavailable,
                        preparing="Your code is still running on the worker; asking again in a moment.")
    except ServiceUnavailable:
        cache.delete(key)  # a failed run is not awaited again
        raise


def enqueue_refill(*, kind: str, difficulty: str) -> None:
    try:
        refill_stock.delay(kind=kind, difficulty=difficulty)
    except Exception:  # the learner already has a problem; a missed refill is retried next time
        log.warning("could not enqueue a stock refill for %s/%s", kind, difficulty, exc_info=True)


def enqueue_seeded_variants(*, kind: str, difficulty: str, seeds: list[int]) -> None:
    try:
        generate_seeded_variants.delay(kind=kind, difficulty=difficulty, seeds=seeds)
    except Exception:  # broker down: the start is refused for now and asks again when retried
        log.warning("could not enqueue seeded variants of %s/%s", kind, difficulty, exc_info=True)


def enqueue_burst(submission_ids: list[int]) -> None:
    try:
        grade_submissions.delay(submission_ids)
    except Exception:  # broker down: the rows are stored, the next sweep enqueues them again
        log.warning("could not enqueue grading of %d submissions", len(submission_ids), exc_info=True)


@dispatch.enqueues_grading
def enqueue_grading(submission_id: int, *, code: bool = False) -> None:
    """Have the submission graded: by the grading worker, or by the code worker for code."""
    try:
        (grade_code_submission if code else grade_submission).delay(submission_id)
    except Exception:  # broker down: the row is stored, the sweep enqueues it later
        log.warning("could not enqueue grading of submission %s", submission_id, exc_info=True)
