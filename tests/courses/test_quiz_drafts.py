"""A quiz attempt's drafts: graded once from what was entered when time ran out, or at Submit."""

import pytest
from django.test import TestCase
from django.utils import timezone

from questions.courses import services as courses_services
from questions.courses.jobs import attempt_expire_if_overdue, attempts_close_overdue
from questions.courses.models import QuizAnswer, QuizAttempt
from questions.errors import DraftRefused
from questions.practice import services as practice_services
from questions.practice.models import AnswerDraft, Submission
from tests.choices import answer_by_id
from tests.courses.conftest import answer, slot_item

pytestmark = pytest.mark.django_db

RIGHT, WRONG = {"response": 0}, {"response": 1}


def draft(attempt, learner, position, body):
    item = slot_item(attempt, position)
    return practice_services.answer_draft_save(learner=learner, item=item, answer=answer_by_id(item, body))


def run_out(attempt) -> None:
    """The attempt's time runs out now (after the drafts the test saved)."""
    QuizAttempt.objects.filter(id=attempt.id).update(deadline=timezone.now())


def expire(attempt) -> QuizAttempt:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return attempt_expire_if_overdue(attempt=attempt)


def test_time_out_grades_the_draft_of_an_unanswered_question_once(make_quiz, enrolled):
    quiz = make_quiz(time_limit_seconds=600)
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    draft(attempt, lea, 0, RIGHT)
    run_out(attempt)
    expire(attempt)
    expire(attempt)  # a later request
    with TestCase.captureOnCommitCallbacks(execute=True):
        attempts_close_overdue()  # and the beat task: nothing more
    answers = list(QuizAnswer.objects.filter(slot__attempt=attempt).select_related("submission"))
    assert len(answers) == 1
    assert answers[0].submission.from_draft and answers[0].submission.status == Submission.Status.GRADED
    attempt.refresh_from_db()
    assert attempt.state == "submitted" and attempt.submitted_by == "deadline"
    assert attempt.score == 1.0
    assert not AnswerDraft.objects.exists()


def test_a_draft_newer_than_the_saved_answer_replaces_it(make_quiz, enrolled):
    quiz = make_quiz(time_limit_seconds=600)
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    answer(attempt, lea, 0, WRONG)
    draft(attempt, lea, 0, RIGHT)
    run_out(attempt)
    expire(attempt)
    tries = list(QuizAnswer.objects.filter(slot__attempt=attempt).order_by("id").select_related("submission"))
    assert [t.submission.from_draft for t in tries] == [False, True]
    attempt.refresh_from_db()
    assert attempt.score == 1.0  # the last try counts


def test_submit_includes_unsent_drafts(make_quiz, enrolled):
    quiz = make_quiz(time_limit_seconds=600)
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    draft(attempt, lea, 0, RIGHT)
    with TestCase.captureOnCommitCallbacks(execute=True):
        courses_services.attempt_submit(attempt=attempt, learner=lea)
    attempt.refresh_from_db()
    assert attempt.submitted_by == "learner" and attempt.score == 1.0
    assert QuizAnswer.objects.get(slot__attempt=attempt).submission.from_draft


def test_no_draft_is_kept_once_the_attempt_is_over(make_quiz, enrolled):
    quiz = make_quiz(time_limit_seconds=600)
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    run_out(attempt)
    with pytest.raises(DraftRefused):
        draft(attempt, lea, 0, RIGHT)
    assert not AnswerDraft.objects.exists()


def test_a_question_answered_right_under_immediate_feedback_takes_no_draft_try(make_quiz, enrolled):
    quiz = make_quiz(time_limit_seconds=600, feedback_timing="immediate", penalty=0.5)
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    answer(attempt, lea, 0, RIGHT)
    draft(attempt, lea, 0, WRONG)
    run_out(attempt)
    expire(attempt)
    assert QuizAnswer.objects.filter(slot__attempt=attempt).count() == 1
    attempt.refresh_from_db()
    assert attempt.score == 1.0
    assert not AnswerDraft.objects.filter(learner=lea).exists()  # none outlives the attempt
