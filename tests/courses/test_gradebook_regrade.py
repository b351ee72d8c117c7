"""Gradebook CSV escaping, grading methods in the gradebook, and the batched regrade task."""

import csv
import io

import numpy as np
import pytest

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion
from questions.courses import jobs as courses_jobs
from questions.courses import rules as courses_rules
from questions.courses import selectors as courses_selectors
from questions.courses import services as courses_services
from questions.courses import tasks as courses_tasks
from questions.courses.models import AttemptSlot, QuizAttempt, RegradeRun
from questions.courses.rules import SectionSpec
from tests.courses.conftest import (
    POOL_SLUGS,
    answer,
    choice_question,
    numeric_key_answer,
    slot_item,
)

pytestmark = pytest.mark.django_db

RIGHT, WRONG = {"response": 0}, {"response": 1}


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_that_spreadsheets_would_run_get_a_quote(text):
    assert courses_rules.csv_safe(text) == "'" + text


def test_plain_cells_and_numbers_pass_unchanged():
    assert courses_rules.csv_safe("Ada") == "Ada"
    assert courses_rules.csv_safe(-1.5) == -1.5
    assert courses_rules.csv_safe(None) == ""


def test_gradebook_csv_escapes_names_and_titles(client_for, course, instructor, make_quiz, django_user_model):

    evil = django_user_model.objects.create_user(username="=HYPERLINK", password="s3cret-pass-word")
    courses_services.course_join(user=evil, code=course.join_code)
    make_quiz(title='@SUM(1,2), "quoted"')
    response = client_for(instructor).get(f"/api/v1/courses/{course.id}/gradebook.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["username", "'@SUM(1,2), \"quoted\" (out of 1)"]
    assert rows[1] == ["'=HYPERLINK", ""]


def test_gradebook_csv_writes_large_and_fractional_maxima_as_people_do(client_for, course, instructor, make_quiz):
    big = [SectionSpec(kind="mha_params", difficulty="easy", draw=50, points=1000)] * 20
    make_quiz(title="Big", sections=big)
    make_quiz(title="Half", sections=[SectionSpec(questions=POOL_SLUGS, points=2.5)])
    response = client_for(instructor).get(f"/api/v1/courses/{course.id}/gradebook.csv")
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert header == ["username", "Big (out of 1,000,000)", "Half (out of 2.5)"]


def test_draft_quizzes_are_not_gradebook_columns(client_for, course, instructor, make_quiz):
    make_quiz(title="Open one")
    courses_services.quiz_create(course=course, actor=instructor, title="Still a draft",
                        sections=[SectionSpec(questions=POOL_SLUGS)])
    book = courses_selectors.gradebook_for(course=course, user=instructor)
    assert [q.title for q in book.quizzes] == ["Open one"]


def _take(quiz, learner, right: bool) -> QuizAttempt:
    attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
    answer(attempt, learner, 0, RIGHT if right else WRONG)
    return courses_services.attempt_submit(attempt=attempt, learner=learner)


@pytest.mark.parametrize(
    ("method", "expected"), [("highest", 1.0), ("last", 0.0), ("first", 0.0), ("average", 1 / 3)]
)
def test_gradebook_applies_the_grading_method(course, instructor, make_quiz, enrolled, method, expected):
    quiz = make_quiz(attempts_allowed=3, grading_method=method)
    lea = enrolled[0]
    for right in (False, True, False):
        _take(quiz, lea, right)
    book = courses_selectors.gradebook_for(course=course, user=instructor)
    row = next(r for r in book.rows if r.learner == lea)
    assert row.grades == [pytest.approx(expected)] and row.attempts == [3]


def test_batched_regrade_is_resumable_and_idempotent(course, instructor, make_quiz, enrolled):
    from questions.courses.tasks import regrade_quiz

    quiz = make_quiz(sections=[SectionSpec(questions=POOL_SLUGS[:1])])
    for learner, right in zip(enrolled, (True, False, True, False), strict=True):
        _take(quiz, learner, right)
    version = QuestionVersion.objects.get(question__slug=POOL_SLUGS[0], status="published")
    catalogue_services.question_version_save(
        topic=version.question.topic, data=choice_question(POOL_SLUGS[0], right=1), status="published"
    )
    assert len(courses_selectors.regrade_preview(quiz=quiz, user=instructor)) == 4
    run = RegradeRun.objects.create(quiz=quiz, requested_by=instructor, slots_total=4)
    # A worker applies two batches of one slot and dies: the cursor keeps its place.
    assert courses_jobs.regrade_run_batch(run_id=run.id, batch_size=1)
    assert courses_jobs.regrade_run_batch(run_id=run.id, batch_size=1)
    run.refresh_from_db()
    first_two = list(AttemptSlot.objects.filter(attempt__quiz=quiz).order_by("id").values_list("id", flat=True)[:2])
    assert run.cursor == first_two[1] and run.slots_done == 2 and run.state == "pending"
    # The redelivered task finishes the rest; a duplicate message then changes nothing.
    regrade_quiz.delay(run.id).get()
    run.refresh_from_db()
    assert run.state == "done" and run.slots_done == 4 and run.slots_changed == 4
    marks = {s.attempt.learner.username: (s.original_mark, s.mark)
             for s in AttemptSlot.objects.filter(attempt__quiz=quiz).select_related("attempt__learner")}
    assert marks == {"lea": (1.0, 0.0), "leo": (0.0, 1.0), "lia": (1.0, 0.0), "lou": (0.0, 1.0)}
    regrade_quiz.delay(run.id).get()
    run.refresh_from_db()
    assert run.slots_done == 4 and run.slots_changed == 4
    # A second run against the same keys finds nothing to change, and the originals stay.
    again = RegradeRun.objects.create(quiz=quiz, requested_by=instructor)
    regrade_quiz.delay(again.id).get()
    again.refresh_from_db()
    assert again.state == "done" and again.slots_changed == 0
    assert courses_selectors.regrade_preview(quiz=quiz, user=instructor) == []
    scores = dict(QuizAttempt.objects.filter(quiz=quiz).values_list("learner__username", "original_score"))
    assert scores == {"lea": 1.0, "leo": 0.0, "lia": 1.0, "lou": 0.0}


def test_a_numeric_key_fixed_by_a_new_engine_version_is_regraded_with_the_original_kept(
    course, instructor, make_quiz, enrolled, django_capture_on_commit_callbacks
):
    from attention_engine import api as engine

    quiz = make_quiz(sections=[SectionSpec(kind="mha_params", difficulty="easy", points=2)])
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    variant = AttemptSlot.objects.select_related("item__variant").get(attempt=attempt).item.variant
    true_key = engine.generate(variant.kind, variant.seed, variant.difficulty)["answer"]
    # As if an older engine had shipped this variant with a wrong key.
    variant.engine_version = variant.data["engine_version"] = "0.9.0"
    variant.data["answer"] = {part: value + 1000 for part, value in true_key.items()}
    variant.save(update_fields=["engine_version", "data"])
    answer(attempt, lea, 0, {part: str(value) for part, value in true_key.items()})
    attempt = courses_services.attempt_submit(attempt=attempt, learner=lea)
    assert attempt.score == 0.0

    changes = courses_selectors.regrade_preview(quiz=quiz, user=instructor)
    assert [(c.learner, c.old_mark, c.new_mark) for c in changes] == [(lea.username, 0.0, 2.0)]
    with django_capture_on_commit_callbacks(execute=True):
        courses_services.regrade_start(quiz=quiz, user=instructor)  # the batched task, in-process here
    slot = AttemptSlot.objects.get(attempt=attempt)
    attempt.refresh_from_db()
    assert (slot.original_mark, slot.mark) == (0.0, 2.0)
    assert (attempt.original_score, attempt.score) == (0.0, 2.0)
    assert courses_selectors.regrade_preview(quiz=quiz, user=instructor) == []


def test_a_regrade_batch_grades_its_numeric_tries_in_one_grade_batch_call(course, instructor, make_quiz, enrolled):
    """Regrades use the engine's batch API: one grade_batch per batch of slots, one generate_batch
    per kind and difficulty of the variants an older engine made, never grade or generate alone."""
    from unittest import mock

    from attention_engine import api as engine

    quiz = make_quiz(sections=[SectionSpec(kind="mha_params", difficulty="easy"),
                               SectionSpec(kind="self_attention", difficulty="easy")])
    attempts = [courses_services.attempt_start(quiz=quiz, learner=learner) for learner in enrolled]
    old = [s.item.variant for s in AttemptSlot.objects.filter(attempt__quiz=quiz, position=0)
           .select_related("item__variant").order_by("attempt_id")]
    true_keys = {variant.id: variant.data["answer"] for variant in old}
    for variant in old[:2]:  # made by an older engine whose mha_params key was off by 1000
        variant.engine_version = variant.data["engine_version"] = "0.9.0"
        variant.data["answer"] = {part: value + 1000 for part, value in variant.data["answer"].items()}
        variant.save(update_fields=["engine_version", "data"])
    for number, (learner, attempt) in enumerate(zip(enrolled, attempts, strict=True)):
        for position in (0, 1):  # half the class types the true keys, half every number off by one
            item = slot_item(attempt, position)
            key = true_keys.get(item.variant_id, item.variant.data["answer"])
            typed = {part: str((np.asarray(value) + (0 if number % 2 else 1)).tolist()) for part, value in key.items()}
            answer(attempt, learner, position, typed)
        courses_services.attempt_submit(attempt=attempt, learner=learner)
    marks = dict(AttemptSlot.objects.filter(attempt__quiz=quiz).values_list("id", "mark"))
    grade_batch, generate_batch = engine.grade_batch, engine.generate_batch
    refused = mock.patch.multiple(engine, grade=mock.DEFAULT, generate=mock.DEFAULT,
                                  grade_batch=mock.DEFAULT, generate_batch=mock.DEFAULT)
    with refused as mocked:
        mocked["grade"].side_effect = mocked["generate"].side_effect = AssertionError("one at a time")
        mocked["grade_batch"].side_effect, mocked["generate_batch"].side_effect = grade_batch, generate_batch
        run = RegradeRun.objects.create(quiz=quiz, requested_by=instructor, slots_total=len(marks))
        assert courses_jobs.regrade_run_batch(run_id=run.id, batch_size=len(marks))
    assert mocked["grade_batch"].call_count == 1
    assert len(mocked["grade_batch"].call_args.args[0]) == 2 * len(enrolled)  # every numeric try
    assert [c.args[:1] + c.args[2:] for c in mocked["generate_batch"].call_args_list] == [("mha_params", "easy")]
    assert sorted(mocked["generate_batch"].call_args.args[1]) == sorted(v.seed for v in old[:2])
    run.refresh_from_db()
    # The keys the old engine stored were wrong; the regrade grades against the remade ones:
    # the learners who typed the true key get their marks, nobody else's mark moves.
    changed = {s.id for s in AttemptSlot.objects.filter(attempt__quiz=quiz) if s.mark != marks[s.id]}
    expected = {s.id for s in AttemptSlot.objects.filter(item__variant__in=old[:2], attempt__quiz=quiz)
                if s.attempt.learner in enrolled[1::2]}
    assert changed == expected and len(expected) == 1 and run.slots_changed == 1


def test_a_new_engine_that_poses_another_problem_for_the_seed_keeps_the_stored_key(
    course, instructor, make_quiz, enrolled
):
    quiz = make_quiz(sections=[SectionSpec(kind="mha_params", difficulty="easy")])
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    variant = AttemptSlot.objects.select_related("item__variant").get(attempt=attempt).item.variant
    stored_key = dict(variant.data["answer"])
    variant.engine_version = variant.data["engine_version"] = "0.9.0"
    variant.data["params"] = {**variant.data["params"], "shown_to_the_learner": 1}
    variant.save(update_fields=["engine_version", "data"])
    answer(attempt, lea, 0, {part: str(value) for part, value in stored_key.items()})
    courses_services.attempt_submit(attempt=attempt, learner=lea)
    assert courses_selectors.regrade_preview(quiz=quiz, user=instructor) == []


def test_statistics_of_a_cbm_quiz_with_two_numeric_draws_count_every_answer_by_how_right_it_was(
    course, instructor, make_quiz, enrolled
):
    quiz = make_quiz(
        certainty_based_marking=True,
        sections=[SectionSpec(kind="mha_params", difficulty="easy", draw=2, points=2)],
    )
    # Per learner, slot 0 and slot 1 right or wrong; all at certainty 3 (+3 right, -6 wrong).
    plan = {"lea": (True, False), "leo": (True, True), "lia": (False, False)}
    for learner in enrolled[:3]:
        attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
        for position, right in enumerate(plan[learner.username]):
            item = attempt.slots.get(slot=position).item
            body = numeric_key_answer(item) if right else {p: "1" for p in item.variant.data["answer"]}
            answer(attempt, learner, position, body, certainty=3)
        courses_services.attempt_submit(attempt=attempt, learner=learner)
    scores = sorted(QuizAttempt.objects.values_list("score", flat=True))
    assert scores == [-8.0, -2.0, 4.0]  # CBM marks: 2 wrong, 1 right + 1 wrong, 2 right

    stats = courses_selectors.quiz_statistics(quiz=quiz, user=instructor)
    # Slot facility is how right the answers were, not the certainty-weighted mark: 2 of 3, 1 of 3.
    assert [round(s["facility"], 6) for s in stats["slots"]] == [round(2 / 3, 6), round(1 / 3, 6)]
    # One drawn-question column for the section, each attempt's cell the mean of its two answers.
    (question,) = stats["questions"]
    assert question["s"] == 3 and question["facility"] == pytest.approx(0.5)
    # Accuracy by parameter counts all six answers, as fractions in [0, 1].
    for parameter in stats["accuracy_by_parameter"]:
        assert sum(g["n"] for g in parameter["groups"]) == 6
        assert all(0.0 <= g["mean_fraction"] <= 1.0 for g in parameter["groups"])


def test_an_attempt_past_its_deadline_counts_in_the_gradebook_without_waiting_for_beat_and_without_a_write(
    course, instructor, make_quiz, enrolled
):
    from datetime import timedelta

    from django.utils import timezone

    quiz = make_quiz(time_limit_seconds=60)
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    answer(attempt, lea, 0, {"response": 0})
    QuizAttempt.objects.filter(id=attempt.id).update(deadline=timezone.now() - timedelta(seconds=1))

    book = courses_selectors.gradebook_for(course=course, user=instructor)
    (row,) = [r for r in book.rows if r.learner == lea]
    assert row.grades == [1.0] and row.attempts == [1]
    # Reads never write: the row is stored as submitted by the beat task (or the next write).
    attempt.refresh_from_db()
    assert attempt.state == QuizAttempt.State.IN_PROGRESS and attempt.score is None
    assert courses_tasks.close_overdue_attempts() == 1
    attempt.refresh_from_db()
    assert attempt.state == QuizAttempt.State.SUBMITTED and attempt.submitted_by == QuizAttempt.SubmittedBy.DEADLINE
    assert attempt.score == row.grades[0]
