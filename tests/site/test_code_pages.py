"""Code exercises on the pages, through Django's test client: every code kind's page (editor,
starter code, the tests listed), its model solution submitted through the form and graded per
test; "Run examples" as a fragment (202 with Retry-After while the worker is busy); the quiz page's
editor, with the model solution held back until the quiz's keys are due."""

import pytest

from attention_engine.api import list_kinds
from questions import errors
from questions.courses import rules as courses_rules
from questions.practice import services as practice_services
from questions.practice.models import Submission
from tests.courses.conftest import (  # noqa: F401
    course,
    enrolled,
    instructor,
    learners,
    make_quiz,
    pool,
)
from tests.site.test_course_pages import as_user, post_answer, slot_at, start, text

pytestmark = pytest.mark.django_db

CODE_KINDS = [k["name"] for k in list_kinds() if k["answer_type"] == "code"]


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


@pytest.mark.parametrize("kind", CODE_KINDS)
def test_every_code_kind_is_written_in_the_editor_and_graded_per_test(
    sandboxed, logged_in, learner, kind, django_capture_on_commit_callbacks
):
    item = practice_services.practice_item_create_numeric(learner=learner, kind=kind, difficulty="easy")
    variant = item.variant.data
    page = text(logged_in.get(f"/practice/items/{item.id}/"))
    assert 'data-code-editor' in page and "vendor/code-editor.js" in page and "Run examples" in page
    assert variant["starter_code"].splitlines()[0] in page
    assert all(t["name"] in page for t in variant["examples"] + variant["hidden_tests"])
    assert variant["answer"]["code"] not in page
    with django_capture_on_commit_callbacks(execute=True):
        # A browser posts a textarea's line ends as CRLF.
        posted = logged_in.post(f"/practice/items/{item.id}/", {"code": variant["answer"]["code"].replace("\n", "\r\n")})
    assert posted.status_code == 302
    submission = Submission.objects.get(item=item)
    assert submission.status == "graded" and submission.score == 1.0, submission.result
    page = text(logged_in.get(posted["Location"]))
    assert page.count('class="code-test passed"') == len(variant["answer"]["tests"])
    assert 'data-score="1.0"' in page and "A model solution" in page


def test_empty_code_is_a_400_on_the_page_and_stores_nothing(logged_in, learner):
    item = practice_services.practice_item_create_numeric(learner=learner, kind="code_rope", difficulty="easy")
    response = logged_in.post(f"/practice/items/{item.id}/", {"code": "  "})
    assert response.status_code == 400
    assert "No code given" in text(response) and 'aria-invalid="true"' in text(response)
    assert not Submission.objects.exists()


def test_run_examples_answers_a_fragment_and_a_202_while_the_worker_is_busy(sandboxed, logged_in, learner, monkeypatch):
    item = practice_services.practice_item_create_numeric(learner=learner, kind="code_stable_softmax", difficulty="easy")
    response = logged_in.post(f"/practice/items/{item.id}/run", {"code": "def softmax(x, axis=-1):\n    return x\n"})
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and f"0 of {len(item.variant.data['examples'])} examples passed" in fragment
    assert fragment.count('class="code-test failed"') == len(item.variant.data["examples"])

    def busy(*args, **kwargs):
        raise errors.Preparing("Your code is still running on the worker; send it again in a moment.")

    monkeypatch.setattr(practice_services, "code_examples_result", busy)
    response = logged_in.post(f"/practice/items/{item.id}/run", {"code": "x = 1"})
    assert response.status_code == 202 and response["Retry-After"] == "2"
    assert "still running" in text(response)
    assert not Submission.objects.exists()


def test_a_quiz_code_question_is_answered_on_the_quiz_page(
    sandboxed, client, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(feedback_timing="immediate",
                     sections=[courses_rules.SectionSpec(kind="code_padding_attention", difficulty="easy", points=2)])
    as_user(client, enrolled[0])
    attempt = start(client, quiz)
    item = slot_at(attempt, 0).item
    solution = item.variant.data["answer"]["code"]
    page = text(client.get(f"/attempts/{attempt.id}/?q=0"))
    assert "data-code-editor" in page and solution not in page
    assert text(client.post(f"/practice/items/{item.id}/run", {"code": solution})).count('class="code-test passed"') \
        == len(item.variant.data["examples"])
    response = post_answer(client, attempt, 0, {"code": solution}, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert 'data-mark="2.0"' in page and "code-test passed" in page
    assert solution not in page  # keys are due once the attempt is submitted
    client.post(f"/attempts/{attempt.id}/submit")
    assert "A model solution" in text(client.get(f"/attempts/{attempt.id}/review"))


def test_the_numeric_preview_refuses_a_code_item(logged_in, learner):
    item = practice_services.practice_item_create_numeric(learner=learner, kind="code_rope", difficulty="easy")
    response = logged_in.post(f"/practice/items/{item.id}/preview", {"answer": {"code": "x"}},
                              content_type="application/json")
    assert response.status_code == 400 and "Only numeric problems" in text(response)


def test_examples_cannot_be_run_once_the_attempt_is_over_and_the_api_key_shows_the_solution(
    sandboxed, client, client_for, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(sections=[courses_rules.SectionSpec(kind="code_stable_softmax", difficulty="easy")])
    as_user(client, enrolled[0])
    attempt = start(client, quiz)
    item = slot_at(attempt, 0).item
    solution = item.variant.data["answer"]["code"]
    post_answer(client, attempt, 0, {"code": solution}, django_capture_on_commit_callbacks)
    client.post(f"/attempts/{attempt.id}/submit")
    closed = client.post(f"/practice/items/{item.id}/run", {"code": solution})
    assert closed.status_code == 409 and "attempt is over" in text(closed)
    api = client_for(enrolled[0])
    assert api.post(f"/api/v1/practice/items/{item.id}/run", {"code": solution}, format="json").status_code == 409
    body = api.get(f"/api/v1/attempts/{attempt.id}").json()
    assert body["slots"][0]["key"] == {"solution": solution}  # keys due once submitted (the default)


def test_examples_cannot_be_run_once_the_interview_is_over(logged_in, learner, bank):
    from questions.learning import services as learning_services

    mock = learning_services.mock_interview_start(learner=learner, topic_slugs=["rope-and-alibi"],
                                                  preset_key="quick").mock
    entry = next(e for e in mock.entries.select_related("item__variant") if e.item.variant_id)
    learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    response = logged_in.post(f"/practice/items/{entry.item.id}/run", {"code": "x = 1"})
    assert response.status_code == 409 and "interview is over" in text(response)
