"""Celery tasks of learning: mock interviews past their deadline are finished at it (beat).

Names are fixed (`questions.tasks.<name>`), like every task of the project.
"""

from __future__ import annotations

from celery import shared_task

from questions.learning.jobs import mocks_close_overdue


@shared_task(name="questions.tasks.close_overdue_mocks", acks_late=True, soft_time_limit=30, time_limit=60)
def close_overdue_mocks() -> int:
    """Finish interviews whose deadline passed, at their deadline, and rate their cards (idempotent)."""
    return len(mocks_close_overdue())
