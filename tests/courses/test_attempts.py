"""Attempts: penalty, CBM, feedback timing in API responses, deterministic draws, time limits."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from questions.catalogue import services as catalogue_services
from questions.courses import selectors as courses_selectors
from questions.courses import services as courses_services
from questions.courses.models import AttemptSlot, Quiz, QuizAttempt
from questions.courses.rules import SEED_SPACE, SectionSpec, stable_int
from questions.errors import ServiceError
from questions.practice import jobs as practice_jobs
from questions.practice.models import PracticeItem, Submission, Variant
from tests.choices import answer_by_id, by_id
from tests.courses.conftest import POOL_SLUGS, answer, slot_item

pytestmark = pytest.mark.django_db

# The author's choice numbers; `answer` (and `answer_by_id` for the API) send them as option ids.
RIGHT, WRONG = {"response": 0}, {"response": 1}


def only_slot(attempt):
    return AttemptSlot.objects.select_related("item__variant").get(attempt=attempt)


def test_penalty_per_retry_under_immediate_feedback(make_quiz, enrolled):
    quiz = make_quiz(feedback_timing="immediate", penalty=0.25, sections=[SectionSpec(questions=POOL_SLUGS, points=4)])
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    answer(attempt, lea, 0, WRONG)
    assert only_slot(attempt).mark == 0.0
    answer(attempt, lea, 0, WRONG)
    answer(attempt, lea, 0, RIGHT)
    # Two earlier wrong tries: 4 points * (1 - 2 * 0.25).
    assert only_slot(attempt).mark == 2.0
    with pytest.raises(ServiceError, match="already answered correctly"):
        answer(attempt, lea, 0, RIGHT)
    attempt = courses_services.attempt_submit(attempt=attempt, learner=lea)
    attempt.refresh_from_db()
    assert attempt.score == 2.0


def test_unreadable_answers_cost_no_try(make_quiz, enrolled):
    from questions.errors import AnswerFormatError

    quiz = make_quiz(feedback_timing="immediate", penalty=0.5)
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    with pytest.raises(AnswerFormatError):
        answer(attempt, lea, 0, {"response": "not a choice"})
    # A choice's number (its place in the author's list) is not its id: refused, no try spent.
    with pytest.raises(AnswerFormatError) as caught:
        courses_services.answer_submit(attempt=attempt, learner=lea, position=0, answer={"response": 0})
    assert "each named by its id" in str(caught.value.details)
    answer(attempt, lea, 0, RIGHT)
    assert only_slot(attempt).mark == 1.0
    assert Submission.objects.filter(learner=lea).count() == 1


def test_certainty_based_marking(make_quiz, enrolled):
    quiz = make_quiz(
        certainty_based_marking=True,
        attempts_allowed=3,
        sections=[SectionSpec(questions=POOL_SLUGS, points=3)],
    )
    lea = enrolled[0]
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    with pytest.raises(ServiceError, match="certainty"):
        answer(attempt, lea, 0, RIGHT)
    answer(attempt, lea, 0, WRONG, certainty=3)
    attempt = courses_services.attempt_submit(attempt=attempt, learner=lea)
    attempt.refresh_from_db()
    # Wrong at certainty 3 scores -6 on the CBM scale of 3: 3 points * -6 / 3.
    assert attempt.score == -6.0
    second = courses_services.attempt_start(quiz=quiz, learner=lea)
    answer(second, lea, 0, RIGHT, certainty=2)
    second = courses_services.attempt_submit(attempt=second, learner=lea)
    second.refresh_from_db()
    assert second.score == 2.0  # 3 points * 2 / 3


def test_certainty_refused_on_a_quiz_without_cbm(make_quiz, enrolled):
    quiz = make_quiz()
    attempt = courses_services.attempt_start(quiz=quiz, learner=enrolled[0])
    with pytest.raises(ServiceError, match="does not use certainty"):
        answer(attempt, enrolled[0], 0, RIGHT, certainty=2)


def _text(response) -> str:
    return json.dumps(response.json())


def test_learner_responses_hide_feedback_and_keys_until_the_timing_allows(
    make_quiz, enrolled, client_for, django_capture_on_commit_callbacks
):
    closes = timezone.now() + timedelta(hours=2)
    quiz = make_quiz(
        feedback_timing="after_close",
        closes_at=closes,
        sections=[SectionSpec(questions=POOL_SLUGS), SectionSpec(kind="mha_params", difficulty="easy")],
    )
    lea = enrolled[0]
    client = client_for(lea)
    view = client.post(f"/api/v1/quizzes/{quiz.id}/attempts").json()
    slots = {s.slot: s for s in AttemptSlot.objects.filter(attempt_id=view["id"]).select_related("item__variant", "item__question_version")}
    numeric = slots[1].item
    key_value = str(numeric.variant.data["answer"]["params"])
    explanation = slots[0].item.question_version.data["explanation"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/v1/attempts/{view['id']}/slots/0/answers", {"answer": answer_by_id(slots[0].item, WRONG)}, format="json")
        client.post(f"/api/v1/attempts/{view['id']}/slots/1/answers", {"answer": {"params": "12"}}, format="json")
    assert Submission.objects.filter(learner=lea, status="graded").count() == 2
    submitted = client.post(f"/api/v1/attempts/{view['id']}/submit")
    for response in (submitted, client.get(f"/api/v1/attempts/{view['id']}"), client.get(f"/api/v1/quizzes/{quiz.id}/attempts")):
        text = _text(response)
        assert key_value not in text and explanation not in text
        assert '"feedback"' not in text and '"steps"' not in text and '"key"' not in text
        assert '"mark"' not in text and "Not correct" not in text
    assert client.get(f"/api/v1/quizzes/{quiz.id}/attempts").json()[0]["score"] is None
    # Once the quiz has closed, the same read shows marks, feedback and keys.
    Quiz = type(quiz)
    Quiz.objects.filter(id=quiz.id).update(closes_at=timezone.now() - timedelta(seconds=1))
    after = client.get(f"/api/v1/attempts/{view['id']}").json()
    assert after["keys_visible"] and after["score"] == 0.0
    shown = {s["position"]: s for s in after["slots"]}
    assert str(shown[1]["key"]["answer"]["params"]) == key_value
    assert shown[0]["key"]["explanation"] == explanation
    assert shown[0]["key"]["correct_choices"] == [by_id(slots[0].item, 0)]  # "Alpha", by its id on the item
    assert shown[1]["answers"][0]["feedback"]


def test_immediate_feedback_shows_results_but_no_key_before_submission(
    make_quiz, enrolled, client_for, django_capture_on_commit_callbacks
):
    quiz = make_quiz(feedback_timing="immediate", sections=[SectionSpec(kind="mha_params", difficulty="easy")])
    client = client_for(enrolled[0])
    view = client.post(f"/api/v1/quizzes/{quiz.id}/attempts").json()
    item = AttemptSlot.objects.select_related("item__variant").get(attempt_id=view["id"]).item
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/v1/attempts/{view['id']}/slots/0/answers", {"answer": {"params": "12"}}, format="json")
    during = client.get(f"/api/v1/attempts/{view['id']}")
    body = during.json()
    assert body["slots"][0]["answers"][0]["score"] == 0.0 and body["slots"][0]["mark"] == 0.0
    assert "key" not in body["slots"][0]
    assert str(item.variant.data["answer"]["params"]) not in _text(during) and '"steps"' not in _text(during)
    assert "worked_solution" not in body["slots"][0]["answers"][0]


def test_immediate_feedback_keeps_explanations_and_worked_solutions_until_submission(
    make_quiz, enrolled, client_for, django_capture_on_commit_callbacks
):
    quiz = make_quiz(
        feedback_timing="immediate",
        sections=[SectionSpec(questions=POOL_SLUGS[:1]), SectionSpec(kind="self_attention", difficulty="easy")],
    )
    client = client_for(enrolled[0])
    view = client.post(f"/api/v1/quizzes/{quiz.id}/attempts").json()
    slots = {
        s.position: s.item
        for s in AttemptSlot.objects.select_related("item__question_version").filter(attempt_id=view["id"])
    }
    theory = next(item for item in slots.values() if item.question_version_id)
    numeric_position = next(pos for pos, item in slots.items() if item.variant_id)
    theory_position = next(pos for pos, item in slots.items() if item.question_version_id)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/v1/attempts/{view['id']}/slots/{theory_position}/answers", {"answer": {"response": by_id(theory, 1)}}, format="json")
        client.post(
            f"/api/v1/attempts/{view['id']}/slots/{numeric_position}/answers",
            {"answer": {"scores": [["0", "0"], ["0", "0"]], "weights": [["0.5", "0.5"], ["0.5", "0.5"]], "output": [["0", "0"], ["0", "0"]]}},
            format="json",
        )
    body = client.get(f"/api/v1/attempts/{view['id']}").json()
    by_position = {s["position"]: s for s in body["slots"]}
    theory_answer = by_position[theory_position]["answers"][0]
    numeric_answer = by_position[numeric_position]["answers"][0]
    assert theory_answer["score"] is not None and numeric_answer["score"] is not None
    explanation = theory.question_version.data["explanation"].strip()
    assert explanation not in json.dumps(body)
    # A wrong answer's feedback names what was wrong, not what is right: the learner may try again.
    assert "Not beta." in theory_answer["feedback"] and "The right answer" not in json.dumps(body)
    assert "worked_solution" not in numeric_answer and "attention_maps" not in numeric_answer

    client.post(f"/api/v1/attempts/{view['id']}/submit")
    done = client.get(f"/api/v1/attempts/{view['id']}").json()
    theory_answer = {s["position"]: s for s in done["slots"]}[theory_position]["answers"][0]
    assert "The right answer: “Alpha”." in theory_answer["feedback"] and explanation in theory_answer["feedback"]


def test_draws_are_deterministic_differ_between_learners_and_do_not_repeat(make_quiz, enrolled, instructor):
    from questions.catalogue.models import QuestionVersion
    from tests.courses.conftest import choice_question

    topic = catalogue_services.topic_upsert(slug="quiz-topic", title="Quiz topic")
    extra = [f"quiz-pool-extra-{i}" for i in range(3)]
    for slug in extra:
        catalogue_services.question_version_save(topic=topic, data=choice_question(slug), status=QuestionVersion.Status.PUBLISHED)
    quiz = make_quiz(
        attempts_allowed=3,
        sections=[SectionSpec(questions=POOL_SLUGS + tuple(extra), draw=2), SectionSpec(kind="mha_params", difficulty="easy")],
    )
    draws, seeds = {}, {}
    for learner in enrolled:
        attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
        slots = list(attempt.slots.select_related("item__variant", "item__question_version__question").order_by("slot"))
        draws[learner.username] = tuple(s.item.question_version.question.slug for s in slots[:2])
        numeric = slots[2].item.variant
        seeds[learner.username] = numeric.seed
        # The numeric seed is the stable hash of (quiz, slot, learner, attempt number).
        assert numeric.seed == stable_int("seed", quiz.id, 2, learner.id, 1) % SEED_SPACE
        # Starting again (a reload) returns the same attempt and items.
        again = courses_services.attempt_start(quiz=quiz, learner=learner)
        assert again.id == attempt.id
        assert [s.item_id for s in again.slots.order_by("slot")] == [s.item_id for s in slots]
    # Six questions, draw two, four learners: the same pair for all four would be a broken hash.
    assert len(set(draws.values())) > 1
    # Three attempts of draw 2 from 6: no question repeats across one learner's attempts.
    lea = enrolled[0]
    seen = list(draws["lea"])
    variants = {seeds["lea"]}
    for _ in range(2):
        attempt = QuizAttempt.objects.get(quiz=quiz, learner=lea, state="in_progress")
        courses_services.attempt_submit(attempt=attempt, learner=lea)
        attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
        slots = list(attempt.slots.select_related("item__question_version__question", "item__variant").order_by("slot"))
        seen += [s.item.question_version.question.slug for s in slots[:2]]
        variants.add(slots[2].item.variant.seed)
    assert len(seen) == 6 and len(set(seen)) == 6
    assert len(variants) == 3  # a fresh variant in each attempt
    assert len(set(seeds.values())) == 4  # and a different one for each learner


def test_a_seed_already_taken_moves_to_the_next_seed(make_quiz, enrolled):
    quiz = make_quiz(sections=[SectionSpec(kind="mha_params", difficulty="easy")])
    lea, leo = enrolled[0], enrolled[1]
    base = stable_int("seed", quiz.id, 0, lea.id, 1) % SEED_SPACE
    # Someone's practice item already holds the variant of Lea's seed.
    [taken] = practice_jobs.variants_generate_for_seeds(kind="mha_params", difficulty="easy", seeds=[base])
    PracticeItem.objects.create(learner=leo, variant_id=taken)
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    assert only_slot(attempt).item.variant.seed == (base + 1) % SEED_SPACE
    assert Variant.objects.get(id=taken).item.learner == leo


def test_attempts_allowed_and_window(make_quiz, enrolled):
    lea = enrolled[0]
    quiz = make_quiz(attempts_allowed=1)
    attempt = courses_services.attempt_start(quiz=quiz, learner=lea)
    courses_services.attempt_submit(attempt=attempt, learner=lea)
    with pytest.raises(ServiceError, match="No attempts left"):
        courses_services.attempt_start(quiz=quiz, learner=lea)
    later = make_quiz(opens_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(ServiceError, match="opens at"):
        courses_services.attempt_start(quiz=later, learner=lea)


def test_deadline_is_the_close_time_when_that_comes_first(make_quiz, enrolled):
    closes = timezone.now() + timedelta(minutes=10)
    quiz = make_quiz(time_limit_seconds=3600, closes_at=closes)
    attempt = courses_services.attempt_start(quiz=quiz, learner=enrolled[0])
    assert attempt.deadline == closes


def test_overdue_attempts_are_closed_at_their_deadline_once(make_quiz, enrolled):
    from questions.courses.tasks import close_overdue_attempts

    quiz = make_quiz(time_limit_seconds=60)
    lea, leo, lia = enrolled[:3]
    attempts = [courses_services.attempt_start(quiz=quiz, learner=u) for u in (lea, leo, lia)]
    answer(attempts[0], lea, 0, RIGHT)
    past = timezone.now() - timedelta(minutes=1)
    QuizAttempt.objects.filter(id__in=[attempts[0].id, attempts[1].id]).update(deadline=past)
    assert close_overdue_attempts.delay().get() == 2
    assert close_overdue_attempts.delay().get() == 0
    for attempt in attempts[:2]:
        attempt.refresh_from_db()
        assert attempt.state == "submitted" and attempt.submitted_by == "deadline"
        assert attempt.submitted_at == past
    attempts[0].refresh_from_db()
    assert attempts[0].score == 1.0  # what was answered before the deadline counts
    attempts[1].refresh_from_db()
    assert attempts[1].score == 0.0
    attempts[2].refresh_from_db()
    assert attempts[2].state == "in_progress"


def test_idempotency_key_gives_one_try(make_quiz, enrolled, client_for, django_capture_on_commit_callbacks):
    quiz = make_quiz(feedback_timing="immediate", penalty=0.5)
    client = client_for(enrolled[0])
    view = client.post(f"/api/v1/quizzes/{quiz.id}/attempts").json()
    url = f"/api/v1/attempts/{view['id']}/slots/0/answers"
    wrong = answer_by_id(slot_item(view["id"], 0), WRONG)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"answer": wrong}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
        second = client.post(url, {"answer": wrong}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == second.status_code == 202
    assert first.json()["submission"] == second.json()["submission"]
    assert Submission.objects.filter(learner=enrolled[0]).count() == 1


def test_quiz_submissions_are_not_readable_through_the_practice_api(
    make_quiz, enrolled, client_for, django_capture_on_commit_callbacks
):
    quiz = make_quiz()
    client = client_for(enrolled[0])
    view = client.post(f"/api/v1/quizzes/{quiz.id}/attempts").json()
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(
            f"/api/v1/attempts/{view['id']}/slots/0/answers",
            {"answer": answer_by_id(slot_item(view["id"], 0), WRONG)},
            format="json",
        )
    submission_id = posted.json()["submission"]
    assert Submission.objects.get(id=submission_id).status == "graded"
    # The practice routes would show the result: they refuse quiz items and submissions.
    assert client.get(f"/api/v1/submissions/{submission_id}").status_code == 404
    item_id = AttemptSlot.objects.get(attempt_id=view["id"]).item_id
    assert client.get(f"/api/v1/practice/items/{item_id}").status_code == 404


@pytest.mark.parametrize("draw", [1, 3])
def test_reading_an_attempt_costs_the_same_queries_whatever_its_length(
    make_quiz, enrolled, client_for, django_assert_max_num_queries, draw
):
    quiz = make_quiz(attempts_allowed=1, sections=[SectionSpec(questions=POOL_SLUGS, draw=draw)])
    client = client_for(enrolled[0])
    view = client.post(f"/api/v1/quizzes/{quiz.id}/attempts").json()
    courses_services.attempt_submit(attempt=QuizAttempt.objects.get(id=view["id"]), learner=enrolled[0])
    # 6: the sixth asks whether another open quiz withholds one of its questions' keys.
    with django_assert_max_num_queries(6):
        assert client.get(f"/api/v1/attempts/{view['id']}").status_code == 200


def test_closing_a_quiz_now_submits_attempts_in_progress_and_refuses_new_ones(
    make_quiz, enrolled, instructor, client_for
):
    quiz = make_quiz(time_limit_seconds=3600, attempts_allowed=2)
    lea, leo = enrolled[0], enrolled[1]
    running = courses_services.attempt_start(quiz=quiz, learner=lea)
    answer(running, lea, 0, RIGHT)
    assert client_for(lea).post(f"/api/v1/quizzes/{quiz.id}/close").status_code == 403  # instructors only

    response = client_for(instructor).post(f"/api/v1/quizzes/{quiz.id}/close")
    assert response.status_code == 200 and response.json()["closes_at"] is not None
    running.refresh_from_db()
    assert running.state == QuizAttempt.State.SUBMITTED and running.submitted_by == QuizAttempt.SubmittedBy.DEADLINE
    assert running.score == 1.0  # what was answered counts
    with pytest.raises(ServiceError, match="closed"):
        courses_services.attempt_start(quiz=Quiz.objects.get(id=quiz.id), learner=leo)
    closed_at = Quiz.objects.get(id=quiz.id).closes_at
    assert client_for(instructor).post(f"/api/v1/quizzes/{quiz.id}/close").status_code == 200
    assert Quiz.objects.get(id=quiz.id).closes_at == closed_at  # closing twice changes nothing


def test_a_draft_cannot_be_closed(course, instructor, pool, client_for):
    draft = courses_services.quiz_create(course=course, actor=instructor, title="Draft", sections=[SectionSpec(questions=POOL_SLUGS)])
    response = client_for(instructor).post(f"/api/v1/quizzes/{draft.id}/close")
    assert response.status_code == 400 and "still a draft" in response.json()["detail"]


def test_staff_preview_their_quiz_as_a_learner_would_and_it_counts_nowhere(
    course, instructor, pool, enrolled, client_for
):

    draft = courses_services.quiz_create(
        course=course, actor=instructor, title="Week 1", attempts_allowed=1,
        sections=[SectionSpec(questions=POOL_SLUGS), SectionSpec(kind="mha_params", difficulty="easy")],
    )
    staff = client_for(instructor)
    # A draft can be previewed, more often than learners may attempt, and not by a learner.
    first = staff.post(f"/api/v1/quizzes/{draft.id}/preview")
    assert first.status_code == 201 and first.json()["is_preview"] is True and len(first.json()["slots"]) == 2
    assert staff.post(f"/api/v1/quizzes/{draft.id}/preview").json()["id"] == first.json()["id"]  # resumed
    attempt = QuizAttempt.objects.get(id=first.json()["id"])
    answer(attempt, instructor, 0, RIGHT)
    courses_services.attempt_submit(attempt=attempt, learner=instructor)
    second = staff.post(f"/api/v1/quizzes/{draft.id}/preview").json()
    assert second["id"] != attempt.id and second["number"] == 2
    assert client_for(enrolled[0]).post(f"/api/v1/quizzes/{draft.id}/preview").status_code == 404  # a draft

    quiz = courses_services.quiz_open(quiz=draft, actor=instructor)
    lea = enrolled[0]
    real = courses_services.attempt_start(quiz=quiz, learner=lea)
    answer(real, lea, 0, WRONG)
    courses_services.attempt_submit(attempt=real, learner=lea)
    assert client_for(lea).post(f"/api/v1/quizzes/{quiz.id}/preview").status_code == 403
    # Only the learner's attempt is in the staff's lists, the gradebook and the statistics.
    assert [a.id for a in courses_selectors.attempts_for_staff(quiz=quiz, user=instructor)] == [real.id]
    assert courses_selectors.quiz_statistics(quiz=quiz, user=instructor)["attempt_count"] == 1
    book = courses_selectors.gradebook_for(course=course, user=instructor)
    assert [r.learner for r in book.rows if r.attempts == [1]] == [lea]
