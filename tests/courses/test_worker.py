"""A real Celery worker makes a quiz's seeded variant and grades the quiz answers."""

import pytest

from questions.courses import services as courses_services
from questions.courses.models import AttemptSlot, QuizAttempt
from questions.courses.rules import SectionSpec
from questions.errors import Preparing
from tests.choices import answer_by_id
from tests.conftest import wait_for
from tests.courses.conftest import POOL_SLUGS, numeric_key_answer


def test_real_worker_grades_quiz_answers(worker_process, instructor, learners, pool):
    worker_process.start()
    course = courses_services.course_create(title="Worker course", instructor=instructor)
    lea = learners[0]
    courses_services.course_join(user=lea, code=course.join_code)
    quiz = courses_services.quiz_create(
        course=course, actor=instructor, title="Graded by the worker",
        sections=[SectionSpec(questions=POOL_SLUGS), SectionSpec(kind="mha_params", difficulty="easy", points=2)],
    )
    courses_services.quiz_open(quiz=quiz, actor=instructor)
    # The numeric slot's variant for its seed is made by the worker; until it is there, a start
    # answers "preparing" (202) and is asked again, as the page does by itself.
    def start():
        try:
            return courses_services.attempt_start(quiz=quiz, learner=lea)
        except Preparing:
            return None

    attempt = wait_for(start, timeout=60, interval=0.5, what="the worker to prepare the quiz's variant")
    slots = {
        s.slot: s
        for s in AttemptSlot.objects.filter(attempt=attempt).select_related("item__variant", "item__question_version")
    }
    courses_services.answer_submit(  # choice 0 ("Alpha", the key), by its id on the item
        attempt=attempt, learner=lea, position=slots[0].position, answer=answer_by_id(slots[0].item, {"response": 0})
    )
    courses_services.answer_submit(
        attempt=attempt, learner=lea, position=slots[1].position, answer=numeric_key_answer(slots[1].item)
    )
    courses_services.attempt_submit(attempt=attempt, learner=lea)
    try:
        score = wait_for(
            lambda: QuizAttempt.objects.get(id=attempt.id).score, timeout=60, what="the worker to grade the quiz"
        )
    except AssertionError:
        pytest.fail("worker did not grade:\n" + worker_process.output()[-3000:])
    assert score == 3.0
    assert sorted(AttemptSlot.objects.filter(attempt=attempt).values_list("mark", flat=True)) == [1.0, 2.0]
