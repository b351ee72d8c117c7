"""A class at once (issue #12): a quiz's numeric variants are made when it opens (and when a learner
joins), in bulk, reserved for it; starting an attempt only reads; with no variant ready the start
is a 202 with Retry-After instead of a wait on the worker; grading and bulk work go to their own
queues; the sweep sends a lost grading message again within seconds, then backs off."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from questions.courses import services as courses_services
from questions.courses.models import AttemptSlot, QuizAttempt
from questions.courses.rules import SectionSpec, numeric_slot_seeds
from questions.practice import jobs as practice_jobs
from questions.practice import services as practice_services
from questions.practice import tasks as practice_tasks
from questions.practice.models import Submission, Variant
from tests.courses.conftest import POOL_SLUGS

pytestmark = pytest.mark.django_db

NUMERIC = [SectionSpec(questions=POOL_SLUGS[:1]), SectionSpec(kind="mha_params", difficulty="easy", draw=2)]


def opened(course, instructor, capture, sections=NUMERIC, **settings_):
    quiz = courses_services.quiz_create(course=course, actor=instructor, title="Class quiz", sections=sections, **settings_)
    with capture(execute=True):  # the preparation runs when the opening commits
        return courses_services.quiz_open(quiz=quiz, actor=instructor)


def test_opening_a_quiz_makes_every_learners_variants_and_a_start_only_reads(
    course, instructor, enrolled, pool, django_capture_on_commit_callbacks
):
    quiz = opened(course, instructor, django_capture_on_commit_callbacks)
    prepared = Variant.objects.filter(kind="mha_params", difficulty="easy")
    assert prepared.count() == 2 * len(enrolled)
    assert not prepared.filter(claimed_at__isnull=True).exists()  # reserved: never practice stock
    expected = {seed for learner in enrolled
                for _, _, seed in numeric_slot_seeds(quiz_id=quiz.id, sections=list(quiz.sections.order_by("position")),
                                                      learner_id=learner.id, number=1)}
    assert set(prepared.values_list("seed", flat=True)) == expected

    before = Variant.objects.count()
    for learner in enrolled:
        attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
        assert AttemptSlot.objects.filter(attempt=attempt, item__variant__isnull=False).count() == 2
    assert Variant.objects.count() == before  # nothing was generated at the start


def test_a_prepared_quiz_variant_is_never_handed_out_as_practice(
    course, instructor, enrolled, pool, django_capture_on_commit_callbacks, other_learner
):
    opened(course, instructor, django_capture_on_commit_callbacks)
    reserved = set(Variant.objects.values_list("id", flat=True))
    for _ in range(3):
        item = practice_services.practice_item_create_numeric(learner=other_learner, kind="mha_params", difficulty="easy")
        assert item.variant_id not in reserved


def test_a_late_joiner_gets_variants_on_joining(course, instructor, enrolled, pool, django_user_model,
                                                django_capture_on_commit_callbacks):
    quiz = opened(course, instructor, django_capture_on_commit_callbacks)
    late = django_user_model.objects.create_user(username="late", password="s3cret-pass-word")
    with django_capture_on_commit_callbacks(execute=True):
        courses_services.course_join(user=late, code=course.join_code)
    sections = list(quiz.sections.order_by("position"))
    seeds = [seed for _, _, seed in numeric_slot_seeds(quiz_id=quiz.id, sections=sections, learner_id=late.id, number=1)]
    assert Variant.objects.filter(kind="mha_params", seed__in=seeds).count() == 2


def test_the_next_attempts_variants_are_made_when_one_is_submitted(
    course, instructor, enrolled, pool, django_capture_on_commit_callbacks
):
    quiz = opened(course, instructor, django_capture_on_commit_callbacks, attempts_allowed=2)
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    with django_capture_on_commit_callbacks(execute=True):
        courses_services.attempt_submit(attempt=attempt, learner=lea)
    sections = list(quiz.sections.order_by("position"))
    seeds = [seed for _, _, seed in numeric_slot_seeds(quiz_id=quiz.id, sections=sections, learner_id=lea.id, number=2)]
    assert Variant.objects.filter(kind="mha_params", seed__in=seeds).count() == 2


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_with_no_variant_ready_the_start_is_a_202_that_asks_the_worker_and_stores_nothing(
    course, instructor, enrolled, pool, monkeypatch
):
    asked = []
    monkeypatch.setattr(practice_tasks.generate_seeded_variants, "delay", lambda **kw: asked.append(kw))
    monkeypatch.setattr("questions.courses.tasks.prepare_quiz_variants.delay", lambda *a, **kw: None)
    quiz = courses_services.quiz_create(course=course, actor=instructor, title="Q", sections=NUMERIC)
    courses_services.quiz_open(quiz=quiz, actor=instructor)  # the preparation never ran (no worker)
    api = APIClient()
    api.force_authenticate(enrolled[0])
    response = api.post(f"/api/v1/quizzes/{quiz.id}/attempts", format="json")
    assert response.status_code == 202 and response["Retry-After"] == "2"
    assert "being prepared" in response.json()["detail"]
    assert not QuizAttempt.objects.exists()
    assert [(a["kind"], len(a["seeds"])) for a in asked] == [("mha_params", 2)]

    from django.test import Client

    page = Client()
    page.force_login(enrolled[0])
    shown = page.post(f"/quizzes/{quiz.id}/start")
    assert shown.status_code == 202 and b"data-submit-after" in shown.content and b"being prepared" in shown.content

    staff = Client()
    staff.force_login(instructor)
    preview = staff.post(f"/quizzes/{quiz.id}/preview")  # staff previews are made on demand too
    assert preview.status_code == 202 and b"data-submit-after" in preview.content

    # The worker makes them; the same request now starts the attempt.
    for call in asked[:1]:
        practice_jobs.variants_generate_for_seeds(**call)
    assert api.post(f"/api/v1/quizzes/{quiz.id}/attempts", format="json").status_code == 201


def test_grading_and_bulk_work_go_to_their_own_queues():
    from celery import current_app

    def queue_of(name):
        return current_app.amqp.router.route({}, name)["queue"].name

    assert queue_of("questions.tasks.grade_submission") == settings.GRADING_QUEUE == "grading"
    assert queue_of("questions.tasks.sweep_pending_submissions") == "grading"
    for bulk in ("questions.tasks.refill_stock", "questions.tasks.prepare_quiz_variants",
                 "questions.tasks.generate_seeded_variants", "questions.tasks.regrade_quiz"):
        assert queue_of(bulk) == settings.BULK_QUEUE == "bulk"


def test_the_sweep_sends_a_lost_message_again_within_seconds_then_backs_off(numeric_item, learner):
    now = timezone.now()
    rows = {}
    for count, age in ((1, 6), (1, 3), (2, 6), (2, 11), (4, 39), (4, 41), (9, 299), (9, 301)):
        rows[(count, age)] = Submission.objects.create(
            item=numeric_item, learner=learner, answer={}, enqueued_at=now - timedelta(seconds=age), enqueue_count=count
        ).id
    swept = set(practice_jobs.submissions_mark_stale(stale_after=timedelta(seconds=5)))
    # 5 s after the first enqueue, then 10, 20, 40 ... (at most 5 minutes) after each re-enqueue.
    assert swept == {rows[(1, 6)], rows[(2, 11)], rows[(4, 41)], rows[(9, 301)]}
    assert Submission.objects.get(id=rows[(1, 6)]).enqueue_count == 2


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_an_empty_stock_waits_at_most_the_sync_timeout_then_answers_202(learner, monkeypatch):
    """No request holds a web process on the worker for long: a variant that is not made within
    VARIANT_SYNC_TIMEOUT_SECONDS is a 202 (the task goes on; the next try finds it in stock)."""
    from celery.exceptions import TimeoutError as CeleryTimeoutError

    waited = []

    class Pending:
        def get(self, timeout, propagate):
            waited.append(timeout)
            raise CeleryTimeoutError("still running")

    monkeypatch.setattr(practice_tasks.generate_variants, "delay", lambda **kw: Pending())
    api = APIClient()
    api.force_authenticate(learner)
    response = api.post("/api/v1/practice/items", {"kind": "mha_params", "difficulty": "hard"}, format="json")
    assert response.status_code == 202 and response["Retry-After"] == "2"
    assert waited == [settings.VARIANT_SYNC_TIMEOUT_SECONDS] and settings.VARIANT_SYNC_TIMEOUT_SECONDS <= 2


def test_the_stock_is_topped_up_in_one_batch_once_it_falls_to_the_low_mark(settings):
    from questions.practice.selectors import stock_missing

    settings.VARIANT_STOCK_TARGET, settings.VARIANT_STOCK_LOW = 12, 6
    assert practice_tasks.refill_stock(kind="mha_params", difficulty="easy") == 12  # empty: filled at once
    assert stock_missing(kind="mha_params", difficulty="easy") == 0
    for variant in Variant.objects.filter(kind="mha_params")[:5]:
        variant.claimed_at = timezone.now()
        variant.save()
    assert practice_tasks.refill_stock(kind="mha_params", difficulty="easy") == 0  # 7 left: above the mark
    Variant.objects.filter(id=Variant.objects.filter(kind="mha_params", claimed_at__isnull=True).first().id).update(
        claimed_at=timezone.now())
    assert practice_tasks.refill_stock(kind="mha_params", difficulty="easy") == 6  # 6 left: back to 12
