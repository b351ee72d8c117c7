"""The whole story through the API: an instructor, four learners, a timed quiz with a theory pool
(draw 2 of 3) and a numeric kind; one learner runs out of time; grades, statistics checked
against hand arithmetic, and a regrade after a key change."""

import csv
import io
import math
from datetime import timedelta

import pytest
from django.utils import timezone

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion
from questions.courses.models import AttemptSlot, QuizAttempt
from questions.practice.models import Submission
from tests.choices import answer_by_id
from tests.courses.conftest import POOL_SLUGS, choice_question, numeric_key_answer

pytestmark = pytest.mark.django_db

RIGHT, WRONG = {"response": 0}, {"response": 1}  # the pool's key is choice 0 ("Alpha")

# Which slots each learner gets right: slots 0 and 1 are the theory draws (1 point each), slot 2
# the numeric problem (2 points). Lou runs out of time after answering slot 0.
PLAN = {
    "lea": (True, True, True),  # 1 + 1 + 2 = 4
    "leo": (True, True, False),  # 1 + 1 + 0 = 2
    "lia": (False, True, True),  # 0 + 1 + 2 = 3
    "lou": (True, None, None),  # 1, then time is up: 1
}


def answer_for(slot: AttemptSlot, right: bool) -> dict:
    """What the learner posts: the key or a wrong answer; a choice by its id on the slot's item."""
    if slot.item.is_numeric:
        return numeric_key_answer(slot.item) if right else {"params": "1"}
    return answer_by_id(slot.item, RIGHT if right else WRONG)


def test_instructor_and_four_learners_run_a_timed_quiz(
    instructor, learners, pool, client_for, django_capture_on_commit_callbacks
):
    staff = client_for(instructor)
    response = staff.post("/api/v1/courses", {"title": "Attention 101"}, format="json")
    assert response.status_code == 201, response.content
    course = response.json()
    clients = {user.username: client_for(user) for user in learners}
    for client in clients.values():
        # The code as a person might type it from a slide: lower case, with a dash.
        code = course["join_code"].lower()[:4] + "-" + course["join_code"].lower()[4:]
        joined = client.post("/api/v1/courses/join", {"code": code}, format="json")
        assert joined.status_code == 200, joined.content
        assert joined.json()["role"] == "learner" and "join_code" not in joined.json()

    response = staff.post(
        f"/api/v1/courses/{course['id']}/quizzes",
        {
            "title": "Week 1",
            "time_limit_seconds": 900,
            "feedback_timing": "after_submission",
            "sections": [
                {"title": "Theory", "questions": list(POOL_SLUGS), "draw": 2, "points": 1},
                {"title": "Arithmetic", "kind": "mha_params", "difficulty": "easy", "points": 2},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    quiz = response.json()
    assert quiz["state"] == "draft" and quiz["max_score"] == 4
    # A draft is invisible to learners.
    assert clients["lea"].post(f"/api/v1/quizzes/{quiz['id']}/attempts").status_code == 404
    assert staff.post(f"/api/v1/quizzes/{quiz['id']}/open").json()["state"] == "open"

    attempts = {}
    for user in learners:
        client = clients[user.username]
        started = client.post(f"/api/v1/quizzes/{quiz['id']}/attempts")
        assert started.status_code == 201, started.content
        view = started.json()
        assert len(view["slots"]) == 3 and "score" not in view
        # A reload gives the same attempt and the same questions.
        again = client.post(f"/api/v1/quizzes/{quiz['id']}/attempts").json()
        assert again["id"] == view["id"] and [s["item"] for s in again["slots"]] == [s["item"] for s in view["slots"]]
        attempts[user.username] = view["id"]
        slots = list(AttemptSlot.objects.filter(attempt_id=view["id"]).select_related("item__variant", "item__question_version").order_by("slot"))
        with django_capture_on_commit_callbacks(execute=True):
            for slot, right in zip(slots, PLAN[user.username], strict=True):
                if right is None:
                    continue
                posted = client.post(
                    f"/api/v1/attempts/{view['id']}/slots/{slot.position}/answers",
                    {"answer": answer_for(slot, right)},
                    format="json",
                )
                assert posted.status_code == 202, posted.content
        # Graded by now (tasks run in-process), but before submission nothing is shown.
        during = client.get(f"/api/v1/attempts/{view['id']}").json()
        assert "score" not in during and all("mark" not in s and "key" not in s for s in during["slots"])
        assert all("feedback" not in a and "score" not in a for s in during["slots"] for a in s["answers"])

    # Lou's time runs out: the deadline passes before Lou answers slot 1.
    lou_attempt = QuizAttempt.objects.get(id=attempts["lou"])
    deadline = timezone.now() - timedelta(seconds=5)
    QuizAttempt.objects.filter(id=lou_attempt.id).update(deadline=deadline)
    stored_before = Submission.objects.filter(learner__username="lou").count()
    lou_slot = AttemptSlot.objects.select_related("item__variant", "item__question_version").get(
        attempt=lou_attempt, position=1
    )
    late = clients["lou"].post(
        f"/api/v1/attempts/{lou_attempt.id}/slots/1/answers", {"answer": answer_for(lou_slot, True)}, format="json"
    )
    assert late.status_code == 409 and "Time is up" in late.json()["detail"]
    assert Submission.objects.filter(learner__username="lou").count() == stored_before
    lou_view = clients["lou"].get(f"/api/v1/attempts/{lou_attempt.id}").json()
    assert lou_view["state"] == "submitted" and lou_view["submitted_by"] == "deadline"
    assert lou_view["submitted_at"] == deadline.isoformat()
    assert lou_view["score"] == 1.0

    for name in ("lea", "leo", "lia"):
        submitted = clients[name].post(f"/api/v1/attempts/{attempts[name]}/submit")
        assert submitted.status_code == 200
        body = submitted.json()
        assert body["submitted_by"] == "learner" and body["keys_visible"] is True
        assert all("key" in s and "mark" in s for s in body["slots"])

    # Gradebook: highest (the only) attempt per learner.
    book = staff.get(f"/api/v1/courses/{course['id']}/gradebook").json()
    grades = {row["learner"]: row["grades"][0] for row in book["rows"]}
    assert grades == {"lea": 4.0, "leo": 2.0, "lia": 3.0, "lou": 1.0}
    exported = staff.get(f"/api/v1/courses/{course['id']}/gradebook.csv")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.content.decode())))
    assert table[0] == ["username", "Week 1 (out of 4)"]
    assert {row[0]: float(row[1]) for row in table[1:]} == grades

    # Statistics over the marks matrix (rows lea, leo, lia, lou; columns slot 0, 1, 2):
    #   lea [1, 1, 2] T=4   leo [1, 1, 0] T=2   lia [0, 1, 2] T=3   lou [1, 0, 0] T=1
    stats = staff.get(f"/api/v1/quizzes/{quiz['id']}/statistics").json()
    assert stats["attempts"] == "first" and stats["attempt_count"] == 4
    slot0, slot1, slot2 = stats["slots"]
    # Facility = mean / max: slot 0 (1+1+0+1)/4 / 1 = 0.75; slot 2 (2+0+2+0)/4 / 2 = 0.5.
    assert slot0["facility"] == pytest.approx(0.75)
    assert slot2["facility"] == pytest.approx(0.5)
    # Slot 0 SD: deviations .25 .25 -.75 .25 -> (3 * .0625 + .5625) / 3 = .25 -> SD .5.
    assert slot0["sd"] == pytest.approx(0.5)
    # Slot 1: x = 1 1 1 0 (mean .75), rest X = T - x = 3 1 2 1 (mean 1.75).
    # C(x, X) = (.25*1.25 + .25*-.75 + .25*.25 + -.75*-.75) / 3 = .75 / 3 = .25
    # V(x) = .75 / 3 = .25; V(X) = (1.5625 + .5625 + .0625 + .5625) / 3 = 11/12
    assert slot1["discrimination_index"] == pytest.approx(100 * 0.25 / math.sqrt(0.25 * 11 / 12))
    # Cronbach's alpha: totals 4 2 3 1, mean 2.5, k2 = (2.25 + .25 + .25 + 2.25) / 3 = 5/3;
    # item variances 1/4, 1/4 and (1 + 1 + 1 + 1) / 3 = 4/3 (slot 2: 2 0 2 0, mean 1).
    # alpha = 3/2 * (1 - (1/4 + 1/4 + 4/3) / (5/3)) = 3/2 * (1 - 11/10) = -0.15
    assert stats["quiz"]["cronbach_alpha"] == pytest.approx(-0.15)
    # Per drawn question: each pool question is a column over the attempts that drew it.
    theory_columns = [q for q in stats["questions"] if q["section"] == 0]
    assert {q["label"] for q in theory_columns} <= set(POOL_SLUGS)
    assert sum(q["s"] for q in theory_columns) == 4 * 2
    # A learner may not read statistics: 403.
    assert clients["lea"].get(f"/api/v1/quizzes/{quiz['id']}/statistics").status_code == 403

    # Regrade: the key of the first pool question was wrong; version 2 makes "Beta" right.
    first = QuestionVersion.objects.get(question__slug=POOL_SLUGS[0], status="published")
    catalogue_services.question_version_save(
        topic=first.question.topic, data=choice_question(POOL_SLUGS[0], right=1), status="published"
    )
    affected = AttemptSlot.objects.filter(item__question_version=first).select_related("attempt__learner")
    expected = {}
    for slot in affected:
        right_before = PLAN[slot.attempt.learner.username][slot.slot]
        old = 1.0 if right_before else 0.0
        # Lou never answered slot 1: an unanswered question stays 0 under any key.
        new = old if right_before is None else 1.0 - old
        if new != old:
            expected[(slot.attempt_id, slot.slot)] = (old, new)
    assert expected, "the draw gave nobody the first pool question; the test data needs another pool"
    preview = staff.get(f"/api/v1/quizzes/{quiz['id']}/regrade/preview").json()
    assert {(c["attempt_id"], c["slot"]): (c["old_mark"], c["new_mark"]) for c in preview} == expected
    assert all(c["against_version"] == 2 for c in preview)
    # The preview wrote nothing.
    assert not AttemptSlot.objects.filter(regraded_at__isnull=False).exists()

    with django_capture_on_commit_callbacks(execute=True):
        started = staff.post(f"/api/v1/quizzes/{quiz['id']}/regrades")
    assert started.status_code == 202
    run = staff.get(f"/api/v1/regrades/{started.json()['id']}").json()
    assert run["state"] == "done" and run["slots_changed"] == len(expected)
    for (attempt_id, slot_number), (old, new) in expected.items():
        slot = AttemptSlot.objects.get(attempt_id=attempt_id, slot=slot_number)
        assert (slot.original_mark, slot.mark) == (old, new)
        attempt = QuizAttempt.objects.get(id=attempt_id)
        name = attempt.learner.username
        view = clients[name].get(f"/api/v1/attempts/{attempt_id}").json()
        shown = next(s for s in view["slots"] if s["position"] == slot.position)
        assert shown["regrade_note"] == f"Regraded: was {old:g}, now {new:g}."
        assert view["original_score"] == grades[name]
        assert view["score"] == grades[name] - old + new
    # The submissions keep the score they were graded with; the new one sits beside it.
    for (attempt_id, slot_number), (old, new) in expected.items():
        [submission] = Submission.objects.filter(item__quiz_slot__attempt_id=attempt_id, item__quiz_slot__slot=slot_number)
        assert submission.score == old and submission.quiz_answer.regraded_score == new
    book = staff.get(f"/api/v1/courses/{course['id']}/gradebook").json()
    for row in book["rows"]:
        changed = sum(new - old for (a, _), (old, new) in expected.items() if a == attempts[row["learner"]])
        assert row["grades"][0] == grades[row["learner"]] + changed
