"""The answer flow through the real stack: PostgreSQL, Redis and a `celery worker` process."""

from datetime import timedelta

import pytest
from django.utils import timezone

from questions.practice import jobs as practice_jobs
from questions.practice import services as practice_services
from questions.practice import tasks as practice_tasks
from questions.practice.models import PracticeItem, Submission, Variant
from tests.conftest import wait_for

pytestmark = pytest.mark.services


@pytest.fixture
def item(postgres, learner):
    # Made in-process: this test is about grading, and the stock path is tested in domain tests.
    [variant_id] = practice_jobs.variants_generate(kind="self_attention", difficulty="easy", count=1)
    variant = Variant.objects.get(id=variant_id)
    variant.claimed_at = timezone.now()
    variant.save()
    return PracticeItem.objects.create(learner=learner, variant=variant)


def status_of(submission_id: int) -> str:
    return Submission.objects.get(id=submission_id).status


def test_worker_grades_a_pending_submission(item, learner, worker_process):
    worker_process.start()
    created = practice_services.submission_create(learner=learner, item=item, answer=dict(item.variant.data["answer"]))
    assert created.submission.status == Submission.Status.PENDING
    wait_for(lambda: status_of(created.submission.id) == "graded", timeout=90,
             what=f"the worker to grade; worker log:\n{worker_process.output()}")
    submission = Submission.objects.get(id=created.submission.id)
    assert submission.score == pytest.approx(1.0)
    assert "grade_submission" in worker_process.output()


def test_nothing_is_lost_when_redis_forgets_the_queue(item, learner, worker_process, redis_client):
    # The worker is down when the answer arrives; then Redis restarts empty (it keeps no data).
    created = practice_services.submission_create(learner=learner, item=item, answer=dict(item.variant.data["answer"]))
    assert redis_client.llen("grading") == 1
    redis_client.flushdb()
    worker_process.start()
    # The sweep finds the submission still pending and enqueues it again.
    Submission.objects.filter(id=created.submission.id).update(enqueued_at=timezone.now() - timedelta(hours=1))
    assert practice_tasks.submissions_sweep() == [created.submission.id]
    wait_for(lambda: status_of(created.submission.id) == "graded", timeout=90,
             what=f"the worker to grade after the sweep; worker log:\n{worker_process.output()}")
    assert Submission.objects.get(id=created.submission.id).enqueue_count == 2


def test_a_burst_after_redis_forgets_is_graded_in_bulk_by_the_worker(item, learner, worker_process, redis_client):
    # Many answers arrived while the worker was down, then Redis restarted empty: the sweep sends
    # them as one burst, which the worker grades through the engine's grade_batch.
    key = dict(item.variant.data["answer"])
    ids = [practice_services.submission_create(learner=learner, item=item, answer=key).submission.id for _ in range(6)]
    redis_client.flushdb()
    Submission.objects.filter(id__in=ids).update(enqueued_at=timezone.now() - timedelta(hours=1))
    assert practice_tasks.submissions_sweep() == ids
    assert redis_client.llen("grading") == 1  # one message for the burst
    worker_process.start()
    wait_for(lambda: all(status_of(i) == "graded" for i in ids), timeout=90,
             what=f"the worker to grade the burst; worker log:\n{worker_process.output()}")
    assert "grade_submissions" in worker_process.output()
    assert {s.score for s in Submission.objects.filter(id__in=ids)} == {1.0}


def test_duplicate_delivery_is_graded_once(item, learner, worker_process, redis_client):
    # A sweep can re-enqueue a submission whose first message is still queued (a slow worker,
    # not a dead one). The worker then receives it twice and must grade it once.
    created = practice_services.submission_create(learner=learner, item=item, answer=dict(item.variant.data["answer"]))
    practice_tasks.submissions_sweep(stale_after=timedelta(seconds=0))
    assert redis_client.llen("grading") == 2  # the original message and the sweep's
    worker_process.start()
    wait_for(lambda: status_of(created.submission.id) == "graded", timeout=90,
             what=f"a new worker to grade; worker log:\n{worker_process.output()}")
    graded_at = Submission.objects.get(id=created.submission.id).graded_at
    wait_for(lambda: redis_client.llen("grading") == 0, timeout=30, what="the queue to drain")
    assert Submission.objects.get(id=created.submission.id).graded_at == graded_at


def test_the_worker_makes_and_grades_every_kind(postgres, learner, worker_process):
    """Every registered kind goes through the real worker: stock refill, then grading (the code
    kinds' model solutions run in the sandbox, on the worker's code queue)."""
    from attention_engine import api as engine

    worker_process.start()
    kinds = [k["name"] for k in engine.list_kinds()]
    # The web asks the worker for variants (no torch in this process's request path).
    results = {kind: practice_tasks.generate_variants.delay(kind=kind, difficulty="easy", count=1) for kind in kinds}
    submissions = {}
    for kind, result in results.items():
        [variant_id] = result.get(timeout=120)
        variant = Variant.objects.get(id=variant_id)
        item = PracticeItem.objects.create(learner=learner, variant=variant)
        answer = {"code": variant.data["answer"]["code"]} if variant.is_code else dict(variant.data["answer"])
        created = practice_services.submission_create(learner=learner, item=item, answer=answer)
        submissions[kind] = created.submission.id
    wait_for(
        lambda: not Submission.objects.filter(id__in=submissions.values(), status="pending").exists(),
        timeout=180,
        what=f"every kind to be graded; worker log:\n{worker_process.output()[-4000:]}",
    )
    scores = dict(Submission.objects.filter(id__in=submissions.values()).values_list("id", "score"))
    assert {kind: scores[sid] for kind, sid in submissions.items()} == {kind: 1.0 for kind in kinds}
    assert len(kinds) >= 25
