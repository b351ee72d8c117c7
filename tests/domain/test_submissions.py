"""The answer flow's domain rules, with tasks run in-process (the worker path is in integration)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from attention_engine import api as engine
from attention_engine import registry
from attention_engine.variant import Variant as EngineVariant
from attention_engine.variant import to_jsonable
from questions import errors as errors
from questions.practice import jobs as practice_jobs
from questions.practice import services as practice_services
from questions.practice import tasks as practice_tasks
from questions.practice.models import PracticeItem, Submission, Variant

pytestmark = pytest.mark.django_db


def key_answer(item) -> dict:
    return dict(item.variant.data["answer"])


def test_correct_answer_is_graded_full_marks_after_commit(numeric_item, learner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = practice_services.submission_create(learner=learner, item=numeric_item, answer=key_answer(numeric_item))
    assert created.created
    assert len(callbacks) >= 1  # grading is enqueued on commit, not before
    submission = Submission.objects.get(id=created.submission.id)
    assert submission.status == Submission.Status.GRADED
    assert submission.score == pytest.approx(1.0)


def test_unscaled_answer_is_named_and_partial(numeric_item, learner, django_capture_on_commit_callbacks):
    # The engine names the mistake; the domain must carry the name through to the stored result.
    module = registry.get_kind("self_attention")
    answers = to_jsonable(module.misconception_answers(EngineVariant.from_dict(numeric_item.variant.data)))
    with django_capture_on_commit_callbacks(execute=True):
        created = practice_services.submission_create(learner=learner, item=numeric_item, answer=answers["no_scaling"])
    submission = Submission.objects.get(id=created.submission.id)
    assert submission.status == Submission.Status.GRADED
    assert submission.score < 1
    assert submission.result["misconception"] == "no_scaling"


def test_grading_twice_gives_one_result(numeric_item, learner):
    submission = Submission.objects.create(
        item=numeric_item, learner=learner, answer=key_answer(numeric_item), enqueued_at=timezone.now()
    )
    practice_tasks.grade_submission.apply(args=[submission.id]).get()
    first = Submission.objects.get(id=submission.id)
    with mock.patch.object(engine, "grade", side_effect=AssertionError("graded a second time")):
        practice_tasks.grade_submission.apply(args=[submission.id]).get()
    second = Submission.objects.get(id=submission.id)
    assert first.status == second.status == Submission.Status.GRADED
    assert (first.score, first.result, first.graded_at) == (second.score, second.result, second.graded_at)


def test_unreadable_answer_is_refused_and_not_stored(numeric_item, learner):
    part = numeric_item.variant.data["parts"][0]["name"]
    with pytest.raises(errors.AnswerFormatError) as caught:
        practice_services.submission_create(learner=learner, item=numeric_item, answer={part: "0.5 banana"})
    assert caught.value.details, "the error says which cell"
    assert caught.value.details[0]["part"] == part
    assert not Submission.objects.exists()


def test_same_idempotency_key_gives_one_submission(numeric_item, learner):
    answer = key_answer(numeric_item)
    first = practice_services.submission_create(learner=learner, item=numeric_item, answer=answer, idempotency_key="k-1")
    again = practice_services.submission_create(learner=learner, item=numeric_item, answer=answer, idempotency_key="k-1")
    assert first.created and not again.created
    assert first.submission.id == again.submission.id
    assert Submission.objects.count() == 1


def test_sweep_reenqueues_only_stale_pending(numeric_item, learner):
    old = timezone.now() - timedelta(minutes=10)
    stale = Submission.objects.create(item=numeric_item, learner=learner, answer={}, enqueued_at=old)
    fresh = Submission.objects.create(item=numeric_item, learner=learner, answer={}, enqueued_at=timezone.now())
    done = Submission.objects.create(
        item=numeric_item, learner=learner, answer={}, enqueued_at=old, status=Submission.Status.GRADED
    )
    with mock.patch.object(practice_tasks, "enqueue_grading") as enqueue:
        swept = practice_tasks.submissions_sweep(stale_after=timedelta(seconds=60))
    assert swept == [stale.id]
    stale.refresh_from_db()
    assert stale.enqueue_count == 1 and stale.enqueued_at > old
    assert fresh.id not in swept and done.id not in swept
    assert enqueue.call_count == 0, "enqueued on commit, and the test transaction never commits"


def test_two_learners_never_get_the_same_variant(learner, other_learner):
    practice_jobs.variants_generate(kind="self_attention", difficulty="easy", count=2)
    a = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
    b = practice_services.practice_item_create_numeric(learner=other_learner, kind="self_attention", difficulty="easy")
    assert a.variant_id != b.variant_id
    assert Variant.objects.filter(claimed_at__isnull=False).count() == 2


def test_empty_stock_asks_the_worker(learner):
    assert not Variant.objects.exists()
    item = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="medium")
    assert item.variant.kind == "self_attention" and item.variant.claimed_at is not None
    assert item.variant.data["verification"]["agreed"] is True


def test_unknown_kind_is_a_clear_error(learner):
    with pytest.raises(errors.ServiceError, match="Unknown problem kind"):
        practice_services.practice_item_create_numeric(learner=learner, kind="nope", difficulty="easy")


def test_a_burst_is_graded_in_bulk_as_one_by_one_and_each_once(learner):
    """The sweep's bursts (`submissions_grade`) go through the engine's grade_batch: the same
    results as `engine.grade` one by one, stored once each, a graded row left as it was."""
    import json

    from questions.learning.models import ReviewLog

    old = timezone.now() - timedelta(minutes=10)
    submissions = []
    for kind in ("self_attention", "causal_mask", "mha_params"):
        item = practice_services.practice_item_create_numeric(learner=learner, kind=kind, difficulty="easy")
        mistakes = registry.get_kind(kind).misconception_answers(EngineVariant.from_dict(item.variant.data))
        answers = [key_answer(item), {**key_answer(item), **to_jsonable(next(iter(mistakes.values())))}, {}]
        submissions += [Submission.objects.create(item=item, learner=learner, answer=a, enqueued_at=old) for a in answers]
    expected = {s.id: json.loads(json.dumps(engine.grade(s.item.variant.data, s.answer))) for s in submissions}
    done = submissions.pop()
    practice_jobs.submission_grade(submission_id=done.id)
    done.refresh_from_db()
    with mock.patch.object(engine, "grade", side_effect=AssertionError("graded one by one")):
        statuses = practice_jobs.submissions_grade(submission_ids=[s.id for s in submissions] + [done.id])
    assert statuses[done.id] == Submission.Status.INVALID  # graded before, by itself
    for submission in submissions:
        submission.refresh_from_db()
        assert submission.result == expected[submission.id]
        assert statuses[submission.id] == submission.status
        assert ReviewLog.objects.filter(submission=submission).count() <= 1
    assert {s.status for s in submissions} == {Submission.Status.GRADED, Submission.Status.INVALID}
    assert any(s.result["misconception"] for s in submissions)
    assert Submission.objects.get(id=done.id).graded_at == done.graded_at
    graded_at, ratings = {s.id: s.graded_at for s in submissions}, ReviewLog.objects.count()
    assert ratings > 0  # the grading hooks ran with the bulk grades
    practice_jobs.submissions_grade(submission_ids=[s.id for s in submissions])  # a redelivered burst
    assert {s.id: s.graded_at for s in Submission.objects.filter(id__in=graded_at)} == graded_at
    assert ReviewLog.objects.count() == ratings


def test_the_sweep_sends_many_stale_submissions_as_bursts(numeric_item, learner, django_capture_on_commit_callbacks):
    old = timezone.now() - timedelta(minutes=10)
    stale = [
        Submission.objects.create(item=numeric_item, learner=learner, answer={}, enqueued_at=old).id
        for _ in range(practice_jobs.GRADE_BURST + 3)
    ]
    with mock.patch.object(practice_tasks, "enqueue_burst") as burst, \
            mock.patch.object(practice_tasks, "enqueue_grading") as single, \
            django_capture_on_commit_callbacks(execute=True):
        assert practice_tasks.submissions_sweep(stale_after=timedelta(seconds=60)) == stale
    assert single.call_count == 0
    assert [c.args[0] for c in burst.call_args_list] == [stale[: practice_jobs.GRADE_BURST], stale[practice_jobs.GRADE_BURST:]]


def test_a_variant_the_engine_refuses_does_not_hold_back_the_rest_of_a_burst(numeric_item, learner):
    old = timezone.now() - timedelta(minutes=10)
    retired = Variant.objects.create(kind="retired_kind", difficulty="easy", seed=1, engine_version="0.1.0",
                                     data={**numeric_item.variant.data, "kind": "retired_kind"}, claimed_at=old)
    broken_item = PracticeItem.objects.create(learner=learner, variant=retired)
    broken = Submission.objects.create(item=broken_item, learner=learner, answer=key_answer(numeric_item), enqueued_at=old)
    good = Submission.objects.create(item=numeric_item, learner=learner, answer=key_answer(numeric_item), enqueued_at=old)
    statuses = practice_jobs.submissions_grade(submission_ids=[broken.id, good.id])
    assert statuses == {broken.id: "failed", good.id: Submission.Status.GRADED}
    good.refresh_from_db()
    broken.refresh_from_db()
    assert good.score == pytest.approx(1.0)
    assert broken.status == Submission.Status.PENDING  # left for the sweep, not lost
