"""Celery tasks: thin wrappers that take ids, re-read rows and call a service.

Every task is idempotent, so messages are acknowledged late and redelivered if a worker dies.
"""

from celery import shared_task
from django.db import OperationalError

from . import services

_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=30, time_limit=60, **_RETRY)
def grade_submission(submission_id: int) -> str:
    return services.submission_grade(submission_id=submission_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90, **_RETRY)
def generate_variants(*, kind: str, difficulty: str, count: int = 1) -> list[int]:
    return services.variants_generate(kind=kind, difficulty=difficulty, count=count)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=300, time_limit=360, **_RETRY)
def refill_stock(*, kind: str, difficulty: str) -> int:
    missing = services.stock_missing(kind=kind, difficulty=difficulty)
    return len(services.variants_generate(kind=kind, difficulty=difficulty, count=missing))


@shared_task(acks_late=True, soft_time_limit=30, time_limit=60)
def sweep_pending_submissions() -> int:
    return len(services.submissions_sweep())


# --- Quizzes -----------------------------------------------------------------------------------


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90, **_RETRY)
def generate_seeded_variants(*, kind: str, difficulty: str, seeds: list[int]) -> list[int]:
    """The variants of these exact seeds (a quiz's deterministic draws); made once, found after."""
    from . import quizzes

    return quizzes.variants_generate_for_seeds(kind=kind, difficulty=difficulty, seeds=seeds)


@shared_task(acks_late=True, soft_time_limit=30, time_limit=60)
def close_overdue_attempts() -> int:
    """Submit quiz attempts whose deadline passed, at their deadline (beat; idempotent)."""
    from . import quizzes

    return len(quizzes.attempts_close_overdue())


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=240, time_limit=300, **_RETRY)
def regrade_quiz(run_id: int) -> int:
    """Apply one batch of a regrade run, then enqueue the next; returns the slots done so far."""
    from . import regrade
    from .models import RegradeRun

    if regrade.regrade_run_batch(run_id=run_id):
        regrade_quiz.delay(run_id)
    return RegradeRun.objects.get(id=run_id).slots_done
