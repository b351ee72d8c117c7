"""`seed_demo` (run by `make run`): a learner, an instructor, a course and an open quiz, idempotent."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from questions.courses.models import Course, Membership, Quiz

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_a_course_with_an_open_quiz_the_learner_can_take_and_is_idempotent(client):
    call_command("seed_demo", "--per-kind", "0", verbosity=0)
    call_command("seed_demo", "--per-kind", "0", verbosity=0)
    users = get_user_model().objects
    demo, teacher = users.get(username="demo"), users.get(username="teacher")
    course = Course.objects.get()
    assert Membership.objects.get(course=course, user=teacher).role == Membership.Role.INSTRUCTOR
    assert Membership.objects.get(course=course, user=demo).role == Membership.Role.LEARNER
    quiz = Quiz.objects.get(course=course)
    assert quiz.state == Quiz.State.OPEN and quiz.time_limit_seconds == 900
    assert client.login(username="teacher", password="attention-teach")
    assert client.get(f"/courses/{course.id}/").status_code == 200
    assert client.login(username="demo", password="attention-demo")
    assert quiz.title in client.get(f"/courses/{course.id}/").content.decode()
