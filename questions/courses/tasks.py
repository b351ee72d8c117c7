"""Celery tasks of courses (deadlines, regrades), and the helper that enqueues a regrade.

Thin like every task: ids in, a job (`questions.courses.jobs`) does the work; names are fixed
(`questions.tasks.<name>`) so beat and queued messages survive a module move.
"""

from __future__ import annotations

import logging

from celery import shared_task

from questions.courses.jobs import attempts_close_overdue, quiz_variants_prepare, regrade_run_batch
from questions.courses.models import RegradeRun
from questions.practice.tasks import RETRY

log = logging.getLogger(__name__)


@shared_task(name="questions.tasks.close_overdue_attempts", acks_late=True, soft_time_limit=30, time_limit=60)
def close_overdue_attempts() -> int:
    """Submit quiz attempts whose deadline passed, at their deadline (beat; idempotent)."""
    return len(attempts_close_overdue())


@shared_task(name="questions.tasks.regrade_quiz", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300, **RETRY)
def regrade_quiz(run_id: int) -> int:
    """Apply one batch of a regrade run, then enqueue the next; returns the slots done so far."""
    if regrade_run_batch(run_id=run_id):
        regrade_quiz.delay(run_id)
    return RegradeRun.objects.get(id=run_id).slots_done


def enqueue_regrade(run_id: int) -> None:
    try:
        regrade_quiz.delay(run_id)
    except Exception:  # broker down: the run stays pending and `regrade_resume` picks it up
        log.warning("could not enqueue regrade run %s", run_id, exc_info=True)


def regrade_resume() -> list[int]:
    """Re-enqueue runs left pending (broker down when they started, worker killed)."""
    ids = list(RegradeRun.objects.filter(state=RegradeRun.State.PENDING).values_list("id", flat=True))
    for run_id in ids:
        enqueue_regrade(run_id)
    return ids


@shared_task(name="questions.tasks.prepare_quiz_variants", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=600, time_limit=660, **RETRY)
def prepare_quiz_variants(quiz_id: int, learner_ids: list[int] | None = None) -> int:
    """Make the numeric variants of the learners' next attempts ahead of time (bulk queue)."""
    return quiz_variants_prepare(quiz_id=quiz_id, learner_ids=learner_ids)


def enqueue_prepare(quiz_id: int, learner_ids: list[int] | None = None) -> None:
    try:
        prepare_quiz_variants.delay(quiz_id, learner_ids)
    except Exception:  # broker down: an attempt start finds its variants missing and asks again
        log.warning("could not enqueue the preparation of quiz %s", quiz_id, exc_info=True)
