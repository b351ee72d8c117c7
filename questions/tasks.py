"""What the worker loads (Celery's `autodiscover_tasks` imports `<app>.tasks`): every feature's
tasks, and the features whose grading hooks (`questions.practice.dispatch`) must be registered
in any process that grades."""

from questions.courses import jobs as _courses_hooks  # noqa: F401  (the quiz mark)
from questions.courses.tasks import close_overdue_attempts, regrade_quiz
from questions.learning import jobs as _learning_hooks  # noqa: F401  (the review rating)
from questions.learning.tasks import close_overdue_mocks
from questions.practice.tasks import (
    generate_seeded_variants,
    generate_variants,
    grade_code_submission,
    grade_submission,
    refill_stock,
    run_code_examples,
    sweep_pending_submissions,
)

__all__ = [
    "close_overdue_attempts", "close_overdue_mocks", "generate_seeded_variants", "generate_variants",
    "grade_code_submission", "grade_submission", "refill_stock", "run_code_examples", "regrade_quiz", "sweep_pending_submissions",
]
