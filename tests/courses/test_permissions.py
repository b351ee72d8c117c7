"""Roles: strangers get 404, the wrong role 403, bad input 400 with a message."""

import pytest
from django.contrib.auth.models import Group

from questions.courses import rules as courses_rules
from questions.courses import services as courses_services
from questions.courses.models import Membership
from tests.choices import answer_by_id
from tests.courses.conftest import slot_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def ta(django_user_model, course, instructor):
    user = django_user_model.objects.create_user(username="tara", password="s3cret-pass-word")
    courses_services.membership_set(course=course, actor=instructor, user=user, role=Membership.Role.TA)
    return user


@pytest.fixture
def stranger(django_user_model):
    """An instructor of another course: no role in ours."""
    user = django_user_model.objects.create_user(username="stan", password="s3cret-pass-word", is_staff=True)
    courses_services.course_create(title="Elsewhere", instructor=user)
    return user


def test_only_instructors_create_courses_and_the_group_counts(client_for, learner, django_user_model):
    assert client_for(learner).post("/api/v1/courses", {"title": "Mine"}, format="json").status_code == 403
    teacher = django_user_model.objects.create_user(username="tess", password="s3cret-pass-word")
    teacher.groups.add(Group.objects.get_or_create(name="instructors")[0])
    response = client_for(teacher).post("/api/v1/courses", {"title": "Mine"}, format="json")
    assert response.status_code == 201
    code = response.json()["join_code"]
    assert len(code) == 8 and set(code) <= set(courses_rules.JOIN_CODE_ALPHABET)


def test_each_course_lists_only_for_its_members(client_for, course, stranger, enrolled):
    listed = client_for(stranger).get("/api/v1/courses").json()
    assert [c["title"] for c in listed] == ["Elsewhere"]
    mine = client_for(enrolled[0]).get("/api/v1/courses").json()
    assert mine == [{"id": course.id, "title": "Attention 101", "role": "learner"}]


def test_strangers_get_404_everywhere(client_for, course, make_quiz, enrolled, stranger):
    quiz = make_quiz()
    attempt = courses_services.attempt_start(quiz=quiz, learner=enrolled[0])
    client = client_for(stranger)
    for url in (
        f"/api/v1/courses/{course.id}",
        f"/api/v1/courses/{course.id}/quizzes",
        f"/api/v1/courses/{course.id}/gradebook",
        f"/api/v1/courses/{course.id}/gradebook.csv",
        f"/api/v1/quizzes/{quiz.id}",
        f"/api/v1/quizzes/{quiz.id}/statistics",
        f"/api/v1/quizzes/{quiz.id}/regrade/preview",
        f"/api/v1/attempts/{attempt.id}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/api/v1/quizzes/{quiz.id}/open").status_code == 404
    assert client.post(f"/api/v1/quizzes/{quiz.id}/regrades").status_code == 404


def test_learners_get_403_on_instructor_routes_and_404_on_each_others_attempts(
    client_for, course, make_quiz, enrolled
):
    quiz = make_quiz()
    theirs = courses_services.attempt_start(quiz=quiz, learner=enrolled[1])
    client = client_for(enrolled[0])
    for url in (
        f"/api/v1/courses/{course.id}/gradebook",
        f"/api/v1/courses/{course.id}/gradebook.csv",
        f"/api/v1/quizzes/{quiz.id}/statistics",
        f"/api/v1/quizzes/{quiz.id}/regrade/preview",
    ):
        assert client.get(url).status_code == 403, url
    body = {"title": "Mine", "sections": [{"kind": "mha_params"}]}
    assert client.post(f"/api/v1/courses/{course.id}/quizzes", body, format="json").status_code == 403
    assert client.post(f"/api/v1/quizzes/{quiz.id}/open").status_code == 403
    assert client.post(f"/api/v1/quizzes/{quiz.id}/regrades").status_code == 403
    assert client.post(f"/api/v1/courses/{course.id}/members", {"username": "lea", "role": "instructor"},
                       format="json").status_code == 403
    assert client.get(f"/api/v1/attempts/{theirs.id}").status_code == 404
    assert client.post(f"/api/v1/attempts/{theirs.id}/submit").status_code == 404
    body = {"answer": answer_by_id(slot_item(theirs, 0), {"response": 0})}  # a well-formed answer
    answer = client.post(f"/api/v1/attempts/{theirs.id}/slots/0/answers", body, format="json")
    assert answer.status_code == 404
    # Only their own attempts are listed.
    assert client.get(f"/api/v1/quizzes/{quiz.id}/attempts").json() == []


def test_teaching_assistants_read_everything_and_change_nothing(client_for, course, make_quiz, enrolled, ta):
    quiz = make_quiz()
    attempt = courses_services.attempt_start(quiz=quiz, learner=enrolled[0])
    client = client_for(ta)
    for url in (
        f"/api/v1/courses/{course.id}/gradebook",
        f"/api/v1/courses/{course.id}/gradebook.csv",
        f"/api/v1/quizzes/{quiz.id}/statistics",
        f"/api/v1/quizzes/{quiz.id}/regrade/preview",
        f"/api/v1/quizzes/{quiz.id}/attempts",
        f"/api/v1/attempts/{attempt.id}",
    ):
        assert client.get(url).status_code == 200, url
    assert "sections" in client.get(f"/api/v1/quizzes/{quiz.id}").json()
    body = {"title": "TA quiz", "sections": [{"kind": "mha_params"}]}
    assert client.post(f"/api/v1/courses/{course.id}/quizzes", body, format="json").status_code == 403
    assert client.post(f"/api/v1/quizzes/{quiz.id}/open").status_code == 403
    assert client.post(f"/api/v1/quizzes/{quiz.id}/regrades").status_code == 403
    # A TA cannot take the quiz or answer for a learner.
    assert client.post(f"/api/v1/quizzes/{quiz.id}/attempts").status_code == 403
    body = {"answer": answer_by_id(slot_item(attempt, 0), {"response": 0})}
    assert client.post(f"/api/v1/attempts/{attempt.id}/slots/0/answers", body, format="json").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "Q", "sections": [{"questions": ["quiz-pool-a"], "draw": 2}]}, "cannot draw 2 of 1"),
        ({"title": "Q", "sections": [{"questions": ["no-such-question"]}]}, "no published"),
        ({"title": "Q", "sections": [{"kind": "no_such_kind"}]}, "Unknown problem kind"),
        ({"title": "Q", "sections": [{"kind": "mha_params", "questions": ["quiz-pool-a"]}]}, "not both"),
        ({"title": "Q", "feedback_timing": "after_close", "sections": [{"kind": "mha_params"}]}, "close time"),
        ({"title": "Q", "opens_at": "2030-01-02T00:00:00Z", "closes_at": "2030-01-01T00:00:00Z",
          "sections": [{"kind": "mha_params"}]}, "close after it opens"),
        ({"title": "Q", "sections": []}, None),
        ({"title": "Q", "penalty": 0.5, "sections": [{"kind": "mha_params"}]}, "needs immediate feedback"),
        ({"title": "Q", "closes_at": "2020-01-01T00:00:00Z", "sections": [{"kind": "mha_params"}]},
         "already passed"),
        ({"title": "Q", "sections": [{"questions": ["quiz-pool-a"], "difficulty": "hard"}]},
         "a difficulty is for a problem kind"),
        ({"title": "Q", "sections": [{"kind": "mha_params", "draw": 51}]}, None),
        ({"title": "Q", "sections": [{"kind": "mha_params"}] * 21}, None),
        ({"title": "Q", "penalty": 2, "sections": [{"kind": "mha_params"}]}, None),
        ({"title": "Q", "grading_method": "best", "sections": [{"kind": "mha_params"}]}, None),
        ({"title": "Q", "sections": "all of them"}, None),
        ([1, 2, 3], None),
    ],
)
def test_bad_quizzes_are_400_with_a_message(client_for, course, instructor, pool, body, message):
    response = client_for(instructor).post(f"/api/v1/courses/{course.id}/quizzes", body, format="json")
    assert response.status_code == 400, response.content
    if message:
        assert message in response.json()["detail"]
    assert not course.quizzes.exists()


def test_bad_join_code_and_bad_answers_are_400(client_for, course, make_quiz, enrolled, learner):
    client = client_for(learner)
    response = client.post("/api/v1/courses/join", {"code": "NOPE-NOPE"}, format="json")
    assert response.status_code == 400 and "join code" in response.json()["detail"]
    assert client.post("/api/v1/courses/join", {}, format="json").status_code == 400
    quiz = make_quiz()
    lea = client_for(enrolled[0])
    view = lea.post(f"/api/v1/quizzes/{quiz.id}/attempts").json()
    url = f"/api/v1/attempts/{view['id']}/slots/0/answers"
    assert lea.post(url, {"answer": "zero"}, format="json").status_code == 400
    readable = answer_by_id(slot_item(view["id"], 0), {"response": 0})  # choice 0 by its id
    assert lea.post(url, {"answer": readable, "certainty": 7}, format="json").status_code == 400
    assert lea.post(url, {"answer": {"response": 0}}, format="json").status_code == 400  # a number, not an id
    assert lea.post(f"/api/v1/attempts/{view['id']}/slots/9/answers", {"answer": readable},
                    format="json").status_code == 404
    # A learner from outside the course cannot start it: 404.
    assert client.post(f"/api/v1/quizzes/{quiz.id}/attempts").status_code == 404
    assert lea.get(f"/api/v1/quizzes/{quiz.id}/statistics?attempts=some").status_code in (400, 403)


def test_the_last_instructor_cannot_step_down(course, instructor):
    from questions.errors import ServiceError

    with pytest.raises(ServiceError, match="at least one instructor"):
        courses_services.membership_set(course=course, actor=instructor, user=instructor, role="learner")


def test_every_route_is_in_the_openapi_schema(client_for, learner):
    schema = client_for(learner).get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/courses", "/api/v1/courses/join", "/api/v1/courses/{course_id}",
        "/api/v1/courses/{course_id}/members", "/api/v1/courses/{course_id}/quizzes",
        "/api/v1/courses/{course_id}/gradebook", "/api/v1/courses/{course_id}/gradebook.csv",
        "/api/v1/quizzes/{quiz_id}", "/api/v1/quizzes/{quiz_id}/open", "/api/v1/quizzes/{quiz_id}/attempts",
        "/api/v1/quizzes/{quiz_id}/statistics", "/api/v1/quizzes/{quiz_id}/regrade/preview",
        "/api/v1/quizzes/{quiz_id}/regrades", "/api/v1/regrades/{run_id}", "/api/v1/attempts/{attempt_id}",
        "/api/v1/attempts/{attempt_id}/slots/{position}/answers", "/api/v1/attempts/{attempt_id}/submit",
    ):
        assert path in schema["paths"], path


@pytest.mark.parametrize("body", [{}, {"username": 7}, {"sections": "x"}])
def test_a_learner_writing_to_a_course_is_refused_for_the_role_whatever_the_body(course, enrolled, body):
    """The role is checked before the body: a learner learns nothing from the validation."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(enrolled[0])
    for url in (f"/api/v1/courses/{course.id}/members", f"/api/v1/courses/{course.id}/quizzes"):
        assert client.post(url, body, format="json").status_code == 403, url
