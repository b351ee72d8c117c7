"""A mock interview whose deadline passes with only a draft: the beat task, run by a real
`celery worker`, submits the draft and the worker grades it (PostgreSQL, Redis, the worker)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from questions.learning.models import MockInterview, MockInterviewItem
from questions.learning.tasks import close_overdue_mocks
from questions.practice import jobs as practice_jobs
from questions.practice import services as practice_services
from questions.practice.models import AnswerDraft, PracticeItem, Purpose, Submission, Variant
from tests.conftest import wait_for

pytestmark = pytest.mark.services


def test_a_timed_out_mock_with_only_a_draft_gets_it_graded_by_the_worker(postgres, learner, worker_process):
    [variant_id] = practice_jobs.variants_generate(kind="self_attention", difficulty="easy", count=1)
    Variant.objects.filter(id=variant_id).update(claimed_at=timezone.now())
    item = PracticeItem.objects.create(learner=learner, variant_id=variant_id, purpose=Purpose.MOCK)
    now = timezone.now()
    mock = MockInterview.objects.create(learner=learner, topics=["self-attention"], question_count=1,
                                        duration_seconds=600, started_at=now, deadline=now + timedelta(minutes=10))
    MockInterviewItem.objects.create(mock=mock, position=1, item=item)
    key = {part: str(value) for part, value in item.variant.data["answer"].items()}
    practice_services.answer_draft_save(learner=learner, item=item, answer=key)
    MockInterview.objects.filter(id=mock.id).update(deadline=timezone.now())  # time runs out
    assert not Submission.objects.filter(item=item).exists()

    worker_process.start()
    close_overdue_mocks.delay()  # what beat sends every 30 s
    graded = wait_for(
        lambda: Submission.objects.filter(item=item, status=Submission.Status.GRADED).first(), timeout=90,
        what=f"the draft to be submitted and graded; worker log:\n{worker_process.output()}",
    )
    assert graded.from_draft and graded.score == pytest.approx(1.0)
    assert graded.answer == key
    assert Submission.objects.filter(item=item).count() == 1
    assert not AnswerDraft.objects.filter(item=item).exists()
    mock.refresh_from_db()
    assert mock.finished_at == mock.deadline
