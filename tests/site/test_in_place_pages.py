"""What the server sends live.js (issue #13: submitting never reloads the page): a quiz or mock
answer sent with X-Requested-With: fetch gets the pieces of the page to put in place (rendered
from the page's own partials), 202 while a try is being graded; a plain post is still redirected;
400 and 409 come back as pages with their messages. The reviews give their bodies, 202 until every
answer is graded. A staff preview attempt shows each question's key; a learner's attempt never."""

import pytest

from questions.courses import rules as courses_rules
from questions.courses.models import AttemptSlot, QuizAttempt
from questions.practice import jobs as practice_jobs
from questions.practice.models import Submission
from tests.choices import by_id
from tests.courses.conftest import (  # noqa: F401 - fixtures used by name
    POOL_SLUGS,
    course,
    enrolled,
    instructor,
    learners,
    make_quiz,
    numeric_key_answer,
    pool,
)
from tests.site.test_mock_pages import (  # noqa: F401 - fixtures
    best,
    choice_topic,
    entry,
    logged_in,
    start,
)

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
EXPLANATION = "Because the test says so."  # every pool question's explanation (part of its key)


def text(response) -> str:
    return response.content.decode()


def begin(client, user, quiz) -> QuizAttempt:
    client.force_login(user)
    assert client.post(f"/quizzes/{quiz.id}/start").status_code == 302
    return QuizAttempt.objects.get(learner=user, quiz=quiz)


def slot_at(attempt, position) -> AttemptSlot:
    return AttemptSlot.objects.select_related("item__variant", "item__question_version").get(
        attempt=attempt, position=position
    )


def alpha(attempt, position) -> dict:
    """The pool's key ("Alpha", choice 0) as the form posts it."""
    return {"response": by_id(slot_at(attempt, position).item, 0), "idempotency_key": ""}


def test_a_deferred_quiz_answer_in_place_moves_on_and_a_plain_post_still_redirects(
    client, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(sections=[courses_rules.SectionSpec(questions=POOL_SLUGS, draw=2)])
    attempt = begin(client, enrolled[0], quiz)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/attempts/{attempt.id}/questions/0", alpha(attempt, 0), **FETCH)
    assert response.status_code == 200
    assert response["X-Page-Url"] == f"/attempts/{attempt.id}/?q=1&saved=0"
    piece = text(response)
    assert "<html" not in piece and "<main" not in piece  # pieces, not a page
    assert 'id="answer-status"' in piece and "Answer to question 1 saved. Question 2 is next." in piece
    assert "1 of 2 answered" in piece and 'data-focus' in piece
    # The nav says question 1 is answered, and the next question's article follows.
    assert 'class="answered">1<' in piece and 'aria-current="step" class="unanswered">2<' in piece
    assert '<article id="question"' in piece and "Question 2 of 2" in piece
    assert f'action="/attempts/{attempt.id}/questions/1"' in piece
    for leaked in ("data-mark", "data-score", "Correct", EXPLANATION, "Right answer"):
        assert leaked not in piece, leaked
    # Without the header: the redirect to the very address live.js put in the address bar.
    with django_capture_on_commit_callbacks(execute=True):
        plain = client.post(f"/attempts/{attempt.id}/questions/1", alpha(attempt, 1))
    assert plain.status_code == 302 and plain["Location"] == f"/attempts/{attempt.id}/?q=1&saved=1"  # all answered: it stays
    assert Submission.objects.filter(learner=enrolled[0]).count() == 2


def test_an_immediate_feedback_answer_in_place_stays_with_its_verdict_then_polls_while_pending(
    client, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(feedback_timing="immediate",
                     sections=[courses_rules.SectionSpec(kind="mha_params", difficulty="easy"),
                               courses_rules.SectionSpec(questions=POOL_SLUGS)])
    attempt = begin(client, enrolled[0], quiz)
    item = slot_at(attempt, 0).item
    wrong = {f"part-{name}": "1" for name in item.variant.data["answer"]}
    # The worker has not graded it yet: 202, the box (which takes focus) says where to ask.
    response = client.post(f"/attempts/{attempt.id}/questions/0", wrong, **FETCH)
    assert response.status_code == 202
    assert response["X-Page-Url"] == f"/attempts/{attempt.id}/?q=0&saved=0"
    piece = text(response)
    assert "Answer to question 1 saved." in piece and "is next" not in piece
    assert "<article" not in piece and "<html" not in piece, "the form stays as typed"
    assert (f'<div id="quiz-result" class="quiz-result" aria-live="polite" tabindex="-1" data-focus '
            f'data-live-url="/attempts/{attempt.id}/?q=0&amp;part=result">') in piece
    assert "Being graded" in piece and "Go to question 2" in piece
    # A new idempotency key for the next try, and the button's new label.
    assert 'id="idempotency-key"' in piece and "Replace my answer" in piece
    asked = client.get(f"/attempts/{attempt.id}/?q=0&part=result")
    assert asked.status_code == 202 and "Being graded" in text(asked) and "<html" not in text(asked)
    practice_jobs.submission_grade(submission_id=Submission.objects.get().id)
    graded = client.get(f"/attempts/{attempt.id}/?q=0&part=result")
    assert graded.status_code == 200 and "<html" not in text(graded) and "Being graded" not in text(graded)
    assert "Not correct" in text(graded) and 'data-mark="0.0"' in text(graded)
    assert "Worked solution" not in text(graded)  # keys wait for the submission

    # Every question answered: a right try is graded in place, and no next question is offered.
    right = {f"part-{k}": v for k, v in numeric_key_answer(item).items()}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/attempts/{attempt.id}/questions/1", alpha(attempt, 1), **FETCH)
    again = client.post(f"/attempts/{attempt.id}/questions/0", right, **FETCH)
    assert again.status_code == 202  # not graded: no worker in this test
    practice_jobs.submission_grade(submission_id=Submission.objects.order_by("-id").first().id)
    graded = client.get(f"/attempts/{attempt.id}/?q=0&part=result")
    assert graded.status_code == 200 and "Correct." in text(graded) and "Go to question" not in text(graded)


def test_an_unreadable_answer_is_a_400_page_and_a_closed_attempt_a_409(
    client, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(sections=[courses_rules.SectionSpec(kind="self_attention", difficulty="easy")])
    attempt = begin(client, enrolled[0], quiz)
    fields = {f"part-{name}": "banana" for name in slot_at(attempt, 0).item.variant.data["answer"]}
    response = client.post(f"/attempts/{attempt.id}/questions/0", fields, **FETCH)
    assert response.status_code == 400
    assert '<article id="question"' in text(response) and 'aria-invalid="true"' in text(response)
    assert not Submission.objects.exists()
    client.post(f"/attempts/{attempt.id}/submit")
    key = {f"part-{k}": v for k, v in numeric_key_answer(slot_at(attempt, 0).item).items()}
    closed = client.post(f"/attempts/{attempt.id}/questions/0", key, **FETCH)
    assert closed.status_code == 409 and "already submitted" in text(closed) and "<main" in text(closed)
    assert not Submission.objects.exists()


def test_the_quiz_review_body_is_202_until_every_answer_is_graded(client, make_quiz, enrolled):  # noqa: F811
    quiz = make_quiz()
    attempt = begin(client, enrolled[0], quiz)
    client.post(f"/attempts/{attempt.id}/questions/0", alpha(attempt, 0))  # not graded: no worker here
    client.post(f"/attempts/{attempt.id}/submit")
    page = text(client.get(f"/attempts/{attempt.id}/review"))
    assert f'data-live-url="/attempts/{attempt.id}/review?part=body"' in page
    assert "Still grading 1 answer; this page updates by itself." in page
    body = client.get(f"/attempts/{attempt.id}/review?part=body")
    assert body.status_code == 202 and "<html" not in text(body)
    assert 'data-live-message="Still grading 1 answer."' in text(body)
    practice_jobs.submission_grade(submission_id=Submission.objects.get().id)
    body = client.get(f"/attempts/{attempt.id}/review?part=body")
    assert body.status_code == 200 and 'data-live-message="All answers graded."' in text(body)
    assert 'data-score="1.0"' in text(body) and EXPLANATION in text(body)
    assert "data-live-url" not in text(client.get(f"/attempts/{attempt.id}/review"))


def test_a_mock_answer_in_place_moves_on_and_its_review_body_is_202_while_grading(logged_in, choice_topic):  # noqa: F811
    mock = start(logged_in, [choice_topic.slug])
    response = logged_in.post(f"/mock/{mock.id}/questions/1", {"response": best(entry(mock, 1))}, **FETCH)
    assert response.status_code == 200
    assert response["X-Page-Url"] == f"/mock/{mock.id}/?q=2&saved=1"
    piece = text(response)
    assert "<html" not in piece
    assert "Answer to question 1 saved. Question 2 is next." in piece and "1 of 3 answered" in piece
    assert '<article id="question"' in piece and "Question 2 of 3" in piece
    assert 'class="answered">1<' in piece and "data-score" not in piece and "Correct" not in piece
    plain = logged_in.post(f"/mock/{mock.id}/questions/2", {"response": best(entry(mock, 2))})
    assert plain.status_code == 302 and plain["Location"] == f"/mock/{mock.id}/?q=3&saved=2"
    bad = logged_in.post(f"/mock/{mock.id}/questions/3", {"response": "not-an-option"}, **FETCH)
    assert bad.status_code == 400 and '<article id="question"' in text(bad)
    logged_in.post(f"/mock/{mock.id}/finish")
    late = logged_in.post(f"/mock/{mock.id}/questions/3", {"response": best(entry(mock, 3))}, **FETCH)
    assert late.status_code == 409 and "<main" in text(late)
    review = text(logged_in.get(f"/mock/{mock.id}/review"))
    assert f'data-live-url="/mock/{mock.id}/review/body"' in review and 'data-live-status="review-status"' in review
    body = logged_in.get(f"/mock/{mock.id}/review/body")
    assert body.status_code == 202 and 'data-live-message="Still grading 2 answers."' in text(body)
    for submission in Submission.objects.all():
        practice_jobs.submission_grade(submission_id=submission.id)
    body = logged_in.get(f"/mock/{mock.id}/review/body")
    assert body.status_code == 200 and 'data-live-message="All answers graded."' in text(body)
    assert "data-live-url" not in text(logged_in.get(f"/mock/{mock.id}/review"))


def test_a_staff_preview_shows_each_key_and_a_learner_attempt_never(
    client, instructor, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(feedback_timing="immediate",
                     sections=[courses_rules.SectionSpec(questions=POOL_SLUGS, draw=1),
                               courses_rules.SectionSpec(kind="mha_params", difficulty="easy")])
    client.force_login(instructor)
    assert client.post(f"/quizzes/{quiz.id}/preview").status_code == 302
    preview = QuizAttempt.objects.get(learner=instructor)
    assert preview.is_preview
    page = text(client.get(f"/attempts/{preview.id}/?q=0"))
    assert "The key (your preview only)" in page and "Right answer" in page and EXPLANATION in page
    assert "Alpha" in page.split("Right answer", 1)[1]  # the pool's key is choice 0
    numeric = text(client.get(f"/attempts/{preview.id}/?q=1"))
    assert "The key (your preview only)" in numeric and "Worked solution" in numeric

    learner = enrolled[0]
    attempt = begin(client, learner, quiz)
    for position in (0, 1):
        during = text(client.get(f"/attempts/{attempt.id}/?q={position}"))
        for leaked in ("The key (your preview only)", "Right answer", EXPLANATION, "Worked solution"):
            assert leaked not in during, (position, leaked)
    piece = text(client.post(f"/attempts/{attempt.id}/questions/0", alpha(attempt, 0), **FETCH))
    practice_jobs.submission_grade(submission_id=Submission.objects.get(learner=learner).id)
    verdict = text(client.get(f"/attempts/{attempt.id}/?q=0&part=result"))
    assert "Correct." in verdict  # a graded try, shown in place: still no key
    for leaked in ("The key (your preview only)", "Right answer", EXPLANATION):
        assert leaked not in piece and leaked not in verdict, leaked
