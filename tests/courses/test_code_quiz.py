"""A quiz with a code exercise: its variant is made when the quiz opens, the learner runs the
examples and answers with code, the code worker's task grades it into the slot's mark, and the
model solution stays hidden until the quiz's keys are due."""

import json

from questions.courses.models import AttemptSlot, QuizAttempt
from questions.courses.rules import SectionSpec
from tests.courses.conftest import numeric_key_answer


def test_a_code_section_is_graded_into_the_quiz_mark(
    sandboxed, make_quiz, enrolled, client_for, django_capture_on_commit_callbacks
):
    quiz = make_quiz(feedback_timing="immediate", sections=[
        SectionSpec(kind="code_causal_attention", difficulty="easy", points=3)])
    client = client_for(enrolled[0])
    attempt = client.post(f"/api/v1/quizzes/{quiz.id}/attempts").json()
    slot = AttemptSlot.objects.select_related("item__variant").get(attempt_id=attempt["id"])
    item = slot.item
    solution = item.variant.data["answer"]["code"]
    shown = client.get(f"/api/v1/attempts/{attempt['id']}")
    assert solution not in shown.content.decode()
    ran = client.post(f"/api/v1/practice/items/{item.id}/run", {"code": solution}, format="json")
    assert ran.status_code == 200 and ran.json()["score"] == 1.0
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/api/v1/attempts/{attempt['id']}/slots/0/answers",
                           {"answer": numeric_key_answer(item)}, format="json")
    assert sent.status_code in (200, 201, 202), sent.content
    body = client.get(f"/api/v1/attempts/{attempt['id']}").json()
    result = body["slots"][0]["answers"][0]
    assert result["score"] == 1.0 and body["slots"][0]["mark"] == 3.0
    assert all(t["passed"] for t in result["tests"]) and len(result["tests"]) == len(item.variant.data["answer"]["tests"])
    assert "solution_code" not in result and solution not in json.dumps(body)  # keys are due after submission
    client.post(f"/api/v1/attempts/{attempt['id']}/submit")
    assert QuizAttempt.objects.get(id=attempt["id"]).score == 3.0
