"""python -m bench: engine throughput, and grading cost as ratios to the floor of the same stack,
measured in one run.

- engine rates (``bench.engine_rates``): per kind, variants/s from ``generate`` in a loop vs
  ``generate_batch``, and answers/s from ``grade`` in a loop vs ``grade_batch``, on one core.
- code latency (``bench.code_latency``): a right code answer graded in a fresh sandbox, p50 and
  p90, with the sandbox start and the test run, against a bare sandboxed Python start.

- engine grade / numpy floor: `attention_engine.api.grade` on a self-attention variant, against
  the least any grader must do (parse nothing, compare the arrays with np.isclose).
- submission path / engine grade: a pending Submission graded through the service (row lock,
  JSON in and out of the database) against the engine's grade alone.

Absolute times drift on shared machines; the ratios are what to compare between runs.
"""

import os
import statistics
import time

from bench import code_latency, engine_rates

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quizsite.settings_test")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")


def best_of(fn, *, repeat: int = 7, number: int = 50) -> float:
    """Seconds per call: the median of `repeat` batches of `number` calls."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


def main() -> None:
    engine_rates.main()
    print()
    code_latency.main()
    print()
    import django

    django.setup()
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from attention_engine import api as engine
    from questions.practice import jobs as practice_jobs
    from questions.practice.models import PracticeItem, Submission, Variant

    call_command("migrate", verbosity=0)
    variant = engine.generate("self_attention", seed=7, difficulty="medium")
    answer = variant["answer"]
    key = {k: np.asarray(v, dtype=float) for k, v in answer.items()}

    def floor() -> None:
        for name, value in key.items():
            np.isclose(np.asarray(answer[name], dtype=float), value, rtol=1e-3, atol=1e-3).all()

    grade_s = best_of(lambda: engine.grade(variant, answer))
    floor_s = best_of(floor)

    user = get_user_model().objects.create_user("bench")
    stored = Variant.objects.create(kind="self_attention", difficulty="medium", seed=7,
                                    engine_version=variant["engine_version"], data=variant,
                                    claimed_at=timezone.now())
    item = PracticeItem.objects.create(learner=user, variant=stored)

    def submission_path() -> None:
        submission = Submission.objects.create(item=item, learner=user, answer=answer, enqueued_at=timezone.now())
        practice_jobs.submission_grade(submission_id=submission.id)

    path_s = best_of(submission_path, number=20)
    print(f"{'measure':<38}{'ratio':>8}")
    print(f"{'engine grade / numpy floor':<38}{grade_s / floor_s:>8.1f}")
    print(f"{'submission path / engine grade':<38}{path_s / grade_s:>8.1f}")
    print(f"(absolute, this run: floor {floor_s * 1e6:.0f} us, grade {grade_s * 1e6:.0f} us, "
          f"path {path_s * 1e6:.0f} us)")


if __name__ == "__main__":
    main()
