"""Course and quiz pages through Django's test client: every page for the right role, 404 for
strangers, 403 for a TA or learner on instructor actions, form errors as 400 with messages, the
server's deadline, no marks, feedback or keys before the quiz's feedback timing allows."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from questions import errors
from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion
from questions.courses import rules as courses_rules
from questions.courses import selectors as courses_selectors
from questions.courses import services as courses_services
from questions.courses.models import AttemptSlot, Membership, Quiz, QuizAnswer, QuizAttempt
from questions.practice.models import Submission
from tests.choices import by_id
from tests.courses.conftest import (  # noqa: F401 - fixtures used by name
    POOL_SLUGS,
    choice_question,
    course,
    enrolled,
    instructor,
    learners,
    make_quiz,
    numeric_key_answer,
    pool,
)

pytestmark = pytest.mark.django_db

EXPLANATION = "Because the test says so."  # every pool question's explanation (part of its key)


@pytest.fixture
def ta(django_user_model, course, instructor):  # noqa: F811
    user = django_user_model.objects.create_user(username="tara", password="s3cret-pass-word")
    courses_services.membership_set(course=course, actor=instructor, user=user, role=Membership.Role.TA)
    return user


@pytest.fixture
def stranger(django_user_model):
    """An instructor of another course: no role in ours."""
    user = django_user_model.objects.create_user(username="stan", password="s3cret-pass-word", is_staff=True)
    courses_services.course_create(title="Elsewhere", instructor=user)
    return user


def as_user(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def start(client, quiz) -> QuizAttempt:
    response = client.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302, text(response)[:500]
    attempt = QuizAttempt.objects.order_by("-id").first()
    assert response["Location"] == f"/attempts/{attempt.id}/"
    return attempt


def post_answer(client, attempt, position, data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(f"/attempts/{attempt.id}/questions/{position}", {"idempotency_key": "", **data})


def slot_at(attempt, position) -> AttemptSlot:
    return AttemptSlot.objects.select_related("item__variant", "item__question_version").get(
        attempt=attempt, position=position
    )


def choice(attempt, position, number: int) -> str:
    """The id the form posts for the author's choice `number` (0 is "Alpha", the pool's key)."""
    return by_id(slot_at(attempt, position).item, number)


def submit(attempt, learner, position, number: int):
    """Answer the slot at `position` through the service with the author's choice `number`."""
    return courses_services.answer_submit(
        attempt=attempt, learner=learner, position=position, answer={"response": choice(attempt, position, number)}
    )


# --- Courses -----------------------------------------------------------------------------------


def test_pages_need_a_login(client, course):  # noqa: F811
    for url in ("/courses/", f"/courses/{course.id}/", f"/courses/{course.id}/gradebook"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_learner_joins_with_the_code_as_typed_from_a_slide(client, course, learners):  # noqa: F811
    lea = learners[0]
    as_user(client, lea)
    code = course.join_code.lower()[:4] + "-" + course.join_code.lower()[4:]
    response = client.post("/courses/join", {"code": code})
    assert response.status_code == 302 and response["Location"] == f"/courses/{course.id}/"
    assert courses_selectors.role_in(course=course, user=lea) == Membership.Role.LEARNER
    listing = text(client.get("/courses/"))
    assert "Attention 101" in listing and "Learner" in listing
    page = text(client.get(f"/courses/{course.id}/"))
    # A learner sees neither the join code nor the members.
    assert course.join_code not in page and "Members" not in page
    assert "No quiz is open in this course yet." in page


def test_a_wrong_join_code_is_a_400_with_a_message(client, course, learners):  # noqa: F811
    as_user(client, learners[0])
    response = client.post("/courses/join", {"code": "NOPE-NOPE"})
    assert response.status_code == 400
    assert "No course has this join code" in text(response)
    response = client.post("/courses/join", {"code": ""})
    assert response.status_code == 400 and "This field is required." in text(response)
    assert not Membership.objects.filter(user=learners[0]).exists()


def test_instructor_creates_a_course_and_a_learner_may_not(client, instructor, learners):  # noqa: F811
    as_user(client, instructor)
    assert "Create a course" in text(client.get("/courses/"))
    response = client.post("/courses/new", {"title": "Transformers"})
    created = courses_selectors.courses_of(user=instructor).get(title="Transformers")
    assert response.status_code == 302 and response["Location"] == f"/courses/{created.id}/"
    page = text(client.get(response["Location"]))
    assert created.join_code in page and "New quiz" in page
    assert client.post("/courses/new", {"title": "  "}).status_code == 400

    as_user(client, learners[0])
    assert "Create a course" not in text(client.get("/courses/"))
    assert client.post("/courses/new", {"title": "Mine"}).status_code == 403
    assert not courses_selectors.courses_of(user=learners[0]).exists()


def test_instructor_adds_a_ta_by_username(client, course, instructor, django_user_model):  # noqa: F811
    django_user_model.objects.create_user(username="tomas", password="x-pass-word-1")
    as_user(client, instructor)
    response = client.post(f"/courses/{course.id}/members", {"username": "tomas", "role": "ta"})
    assert response.status_code == 302
    assert Membership.objects.get(course=course, user__username="tomas").role == Membership.Role.TA
    page = text(client.get(f"/courses/{course.id}/"))
    assert re.search(r"<th scope=\"row\">tomas</th><td>Teaching assistant</td>", page)
    missing = client.post(f"/courses/{course.id}/members", {"username": "nobody", "role": "ta"})
    assert missing.status_code == 400 and "No user is called &#x27;nobody&#x27;" in text(missing)
    # The last instructor cannot step down: the service's message, as a 400.
    last = client.post(f"/courses/{course.id}/members", {"username": "ines", "role": "ta"})
    assert last.status_code == 400 and "at least one instructor" in text(last)


# --- Roles on every page -----------------------------------------------------------------------


@pytest.fixture
def taken(make_quiz, enrolled, django_capture_on_commit_callbacks):  # noqa: F811
    """An open quiz (one theory slot) with one submitted attempt by lea, answered right."""
    quiz = make_quiz(title="Week 1")
    attempt = courses_services.attempt_start(quiz=quiz, learner=enrolled[0])
    with django_capture_on_commit_callbacks(execute=True):
        submit(attempt, enrolled[0], 0, 0)
    courses_services.attempt_submit(attempt=attempt, learner=enrolled[0])
    return quiz, attempt


def staff_urls(course, quiz, attempt):  # noqa: F811
    return [
        f"/courses/{course.id}/",
        f"/courses/{course.id}/gradebook",
        f"/courses/{course.id}/gradebook.csv",
        f"/quizzes/{quiz.id}/",
        f"/quizzes/{quiz.id}/statistics",
        f"/quizzes/{quiz.id}/regrade",
        f"/attempts/{attempt.id}/review",
    ]


def test_every_page_renders_for_the_instructor(client, course, instructor, taken):  # noqa: F811
    quiz, attempt = taken
    as_user(client, instructor)
    for url in ["/courses/", f"/courses/{course.id}/quizzes/new"] + staff_urls(course, quiz, attempt):
        response = client.get(url)
        assert response.status_code == 200, url
    review = text(client.get(f"/attempts/{attempt.id}/review"))
    assert "lea: Week 1, attempt 1" in review and EXPLANATION in review


def test_a_ta_reads_everything_and_changes_nothing(client, course, ta, taken, learners):  # noqa: F811
    quiz, attempt = taken
    as_user(client, ta)
    for url in staff_urls(course, quiz, attempt):
        assert client.get(url).status_code == 200, url
    page = text(client.get(f"/courses/{course.id}/"))
    assert course.join_code in page and "New quiz" not in page and "Add a teaching assistant" not in page
    assert "Apply the regrade" not in text(client.get(f"/quizzes/{quiz.id}/regrade"))
    draft = courses_services.quiz_create(
        course=course, actor=course.memberships.get(role="instructor").user, title="Draft",
        sections=[courses_rules.SectionSpec(questions=POOL_SLUGS)],
    )
    assert "Open to learners" not in text(client.get(f"/quizzes/{draft.id}/"))
    assert client.get(f"/courses/{course.id}/quizzes/new").status_code == 403
    assert client.post(f"/courses/{course.id}/quizzes/new", {"title": "X"}).status_code == 403
    assert client.post(f"/quizzes/{draft.id}/open").status_code == 403
    assert client.post(f"/quizzes/{quiz.id}/regrade").status_code == 403
    assert client.post(f"/courses/{course.id}/members", {"username": "leo", "role": "ta"}).status_code == 403
    draft.refresh_from_db()
    assert draft.state == Quiz.State.DRAFT and not quiz.regrades.exists()
    assert Membership.objects.get(course=course, user=learners[1]).role == Membership.Role.LEARNER


def test_strangers_get_404_on_every_page(client, course, stranger, taken):  # noqa: F811
    quiz, attempt = taken
    as_user(client, stranger)
    for url in staff_urls(course, quiz, attempt) + [f"/courses/{course.id}/quizzes/new", f"/attempts/{attempt.id}/"]:
        assert client.get(url).status_code == 404, url
    for url in (f"/quizzes/{quiz.id}/open", f"/quizzes/{quiz.id}/start", f"/quizzes/{quiz.id}/regrade",
                f"/courses/{course.id}/members", f"/attempts/{attempt.id}/questions/0", f"/attempts/{attempt.id}/submit"):
        assert client.post(url).status_code == 404, url


def test_learners_get_403_on_staff_pages_and_404_on_others_attempts(client, course, taken, learners):  # noqa: F811
    quiz, attempt = taken
    as_user(client, learners[1])
    for url in (f"/courses/{course.id}/gradebook", f"/courses/{course.id}/gradebook.csv",
                f"/quizzes/{quiz.id}/statistics", f"/quizzes/{quiz.id}/regrade", f"/courses/{course.id}/quizzes/new"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/quizzes/{quiz.id}/open").status_code == 403
    # Lea's attempt does not exist for Leo.
    for url in (f"/attempts/{attempt.id}/", f"/attempts/{attempt.id}/review"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/attempts/{attempt.id}/questions/0", {"response": choice(attempt, 0, 0)}).status_code == 404
    # Learners do not see drafts.
    draft = courses_services.quiz_create(course=course, actor=course.memberships.get(role="instructor").user,
                                title="Hidden", sections=[courses_rules.SectionSpec(questions=POOL_SLUGS)])
    assert client.get(f"/quizzes/{draft.id}/").status_code == 404
    assert "Hidden" not in text(client.get(f"/courses/{course.id}/"))


# --- The quiz builder --------------------------------------------------------------------------


def builder_post(**overrides) -> dict:
    data = {
        "section_count": "3", "title": "Week 2", "opens_at": "", "closes_at": "", "time_limit_minutes": "20",
        "attempts_allowed": "2", "grading_method": "highest", "penalty": "0", "feedback_timing": "after_submission",
        "s0-title": "Theory", "s0-topic": "quiz-topic", "s0-draw": "2", "s0-points": "1", "s0-difficulty": "medium",
        "s1-title": "Arithmetic", "s1-kind": "mha_params", "s1-difficulty": "easy", "s1-draw": "1", "s1-points": "2",
        "s2-draw": "1", "s2-points": "1", "s2-difficulty": "medium",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_builder_makes_a_draft_quiz_from_a_topic_pool_and_a_kind(client, course, instructor, pool):  # noqa: F811
    as_user(client, instructor)
    page = text(client.get(f"/courses/{course.id}/quizzes/new"))
    assert 'value="quiz-topic"' in page and 'value="mha_params"' in page
    assert '<label for="id_s0-draw">Questions to draw</label>' in page
    response = client.post(f"/courses/{course.id}/quizzes/new", builder_post(shuffle="on", certainty_based_marking="on"))
    quiz = Quiz.objects.get(title="Week 2")
    assert response.status_code == 302 and response["Location"] == f"/quizzes/{quiz.id}/"
    assert quiz.state == Quiz.State.DRAFT and quiz.time_limit_seconds == 1200 and quiz.attempts_allowed == 2
    assert quiz.shuffle and quiz.certainty_based_marking
    theory, numeric = quiz.sections.order_by("position")
    assert sorted(q.slug for q in theory.questions.all()) == sorted(POOL_SLUGS) and theory.draw_count == 2
    assert (numeric.kind, numeric.difficulty, numeric.points) == ("mha_params", "easy", 2.0)
    detail = text(client.get(f"/quizzes/{quiz.id}/"))
    assert "Open to learners" in detail and "out of 4" in detail
    # The pool's questions by their titles, never their slugs (issue #13, item 10).
    assert all(f"Question {slug}" in detail for slug in POOL_SLUGS) and f"<code>{POOL_SLUGS[0]}</code>" not in detail
    assert client.post(f"/quizzes/{quiz.id}/open").status_code == 302
    quiz.refresh_from_db()
    assert quiz.state == Quiz.State.OPEN


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"opens_at": "2030-01-02T10:00", "closes_at": "2030-01-01T10:00"}, "The quiz must close after it opens."),
        ({"s0-draw": "5"}, "cannot draw 5 of 3 questions"),
        ({"s0-kind": "mha_params"}, "Choose bank questions or a problem kind, not both."),
        ({"s0-topic": "", "s1-kind": ""}, "give at least one section a topic, questions or a problem kind"),
        ({"penalty": "2"}, "Ensure this value is less than or equal to 1.0."),
        ({"feedback_timing": "after_close"}, "Feedback after the quiz closes needs a close time."),
        ({"opens_at": "tomorrow"}, "Enter a valid date/time."),
    ],
)
def test_builder_errors_are_400_with_a_message_and_store_nothing(client, course, instructor, pool, overrides, message):  # noqa: F811
    as_user(client, instructor)
    response = client.post(f"/courses/{course.id}/quizzes/new", builder_post(**overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert not Quiz.objects.exists()


def test_the_builder_and_the_service_share_one_set_of_quiz_limits(client, course, instructor, pool):  # noqa: F811
    """The page used to allow 10 sections and 100 draws while the service allowed 20 and 50."""
    as_user(client, instructor)
    page = text(client.get(f"/courses/{course.id}/quizzes/new?sections=999"))
    assert f'id="id_s{courses_rules.MAX_SECTIONS - 1}-draw"' in page
    assert f'id="id_s{courses_rules.MAX_SECTIONS}-draw"' not in page
    assert f'name="s0-draw" value="1" min="1" max="{courses_rules.MAX_DRAW}"' in page
    too_many = builder_post(**{"s1-draw": str(courses_rules.MAX_DRAW + 1)})
    response = client.post(f"/courses/{course.id}/quizzes/new", too_many)
    assert response.status_code == 400 and not Quiz.objects.exists()
    with pytest.raises(errors.ServiceError, match=f"draw between 1 and {courses_rules.MAX_DRAW}"):
        courses_services.quiz_create(
            course=course, actor=instructor, title="X",
            sections=[courses_rules.SectionSpec(kind="mha_params", difficulty="easy", draw=courses_rules.MAX_DRAW + 1)],
        )


# --- Taking a quiz -----------------------------------------------------------------------------


def test_learner_takes_a_quiz_and_sees_nothing_graded_before_submitting(
    client, course, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(
        title="Week 1", time_limit_seconds=600,
        sections=[courses_rules.SectionSpec(questions=POOL_SLUGS, title="Theory"),
                  courses_rules.SectionSpec(kind="mha_params", difficulty="easy", points=2, title="Arithmetic")],
    )
    lea = enrolled[0]
    as_user(client, lea)
    course_page = text(client.get(f"/courses/{course.id}/"))
    assert "Week 1" in course_page and "1 left" in course_page
    attempt = start(client, quiz)
    page = text(client.get(f"/attempts/{attempt.id}/"))
    seconds = int(re.search(r'data-seconds-left="(\d+)"', page).group(1))
    assert 590 <= seconds <= 600
    assert "Question 1 of 2" in page and "Theory" in page and 'name="response"' in page
    # Right on the theory question, wrong on the numeric one: nothing of either shows.
    right = {"response": choice(attempt, 0, 0)}
    assert post_answer(client, attempt, 0, right, django_capture_on_commit_callbacks).status_code == 302
    numeric = slot_at(attempt, 1)
    parts = {f"part-{name}": "1" for name in numeric.item.variant.data["answer"]}
    response = post_answer(client, attempt, 1, parts, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"].endswith("&saved=1")
    assert Submission.objects.filter(learner=lea, status=Submission.Status.GRADED).count() == 2
    for position in (0, 1):
        during = text(client.get(f"/attempts/{attempt.id}/?q={position}"))
        assert "Your saved answer" in during
        for leaked in ("Score:", "Correct", "Not correct", EXPLANATION, "Worked solution", "data-mark", "Right answer"):
            assert leaked not in during, (position, leaked)
    assert client.get(f"/attempts/{attempt.id}/review").status_code == 302  # in progress: back to the questions

    confirm = text(client.get(f"/attempts/{attempt.id}/submit"))
    assert "You have answered 2 of 2 questions" in confirm
    response = client.post(f"/attempts/{attempt.id}/submit")
    assert response.status_code == 302 and response["Location"] == f"/attempts/{attempt.id}/review"
    review = text(client.get(response["Location"]))
    attempt.refresh_from_db()
    assert attempt.score == 1.0
    assert f'data-score="{attempt.score}"' in review and "out of 3" in review
    assert EXPLANATION in review and "Worked solution" in review
    # The take page now redirects to the review; a late answer is refused and not stored.
    assert client.get(f"/attempts/{attempt.id}/")["Location"] == f"/attempts/{attempt.id}/review"
    before = Submission.objects.count()
    late = post_answer(client, attempt, 0, {"response": choice(attempt, 0, 1)}, django_capture_on_commit_callbacks)
    assert late.status_code == 409 and "already submitted" in text(late)
    assert Submission.objects.count() == before
    grade = text(client.get(f"/courses/{course.id}/"))
    assert 'data-grade="1.0"' in grade and "0 left" in grade


def test_an_unreadable_numeric_answer_is_a_400_naming_the_cell_and_stores_nothing(
    client, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(sections=[courses_rules.SectionSpec(kind="self_attention", difficulty="easy")])
    as_user(client, enrolled[0])
    attempt = start(client, quiz)
    slot = slot_at(attempt, 0)
    part = slot.item.variant.data["parts"][0]
    rows, cols = (1, part["shape"][0]) if len(part["shape"]) == 1 else part["shape"]
    fields = {}
    for i in range(rows):
        for j in range(cols):
            name = f"part-{part['name']}-{j}" if len(part["shape"]) == 1 else f"part-{part['name']}-{i}-{j}"
            fields[name] = "0.5"
    first = next(iter(fields))
    fields[first] = "banana"
    response = post_answer(client, attempt, 0, fields, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    page = text(response)
    assert 'aria-invalid="true"' in page and 'value="banana"' in page
    assert not Submission.objects.exists()


def test_after_the_deadline_answers_are_refused_and_the_attempt_shows_as_submitted(
    client, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(time_limit_seconds=60)
    as_user(client, enrolled[0])
    attempt = start(client, quiz)
    deadline = timezone.now() - timedelta(seconds=1)
    QuizAttempt.objects.filter(id=attempt.id).update(deadline=deadline)
    response = post_answer(client, attempt, 0, {"response": choice(attempt, 0, 0)}, django_capture_on_commit_callbacks)
    assert response.status_code == 409
    assert "Time is up: the attempt was submitted at its deadline. This answer was not stored." in text(response)
    assert not Submission.objects.exists()
    taken = client.get(f"/attempts/{attempt.id}/")
    assert taken.status_code == 302 and taken["Location"] == f"/attempts/{attempt.id}/review"
    review = text(client.get(taken["Location"]))
    assert "Time was up: the attempt was submitted at its deadline" in review
    attempt.refresh_from_db()
    assert attempt.state == QuizAttempt.State.SUBMITTED and attempt.submitted_at == deadline
    assert attempt.score == 0.0 and 'data-score="0.0"' in review and "Not answered." in review


def test_feedback_after_close_shows_no_mark_or_key_until_the_quiz_closes(
    client, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    closes = timezone.now() + timedelta(hours=1)
    quiz = make_quiz(feedback_timing="after_close", closes_at=closes)
    as_user(client, enrolled[0])
    attempt = start(client, quiz)
    post_answer(client, attempt, 0, {"response": choice(attempt, 0, 0)}, django_capture_on_commit_callbacks)
    client.post(f"/attempts/{attempt.id}/submit")
    review = text(client.get(f"/attempts/{attempt.id}/review"))
    assert "Answers saved: 1 of 1" in review and "after the quiz closes" in review
    for leaked in ("data-score", "data-mark", EXPLANATION, "Right answer", "Correct"):
        assert leaked not in review, leaked
    assert "not shown yet" in text(client.get(f"/quizzes/{quiz.id}/"))
    Quiz.objects.filter(id=quiz.id).update(closes_at=timezone.now() - timedelta(seconds=1))
    after = text(client.get(f"/attempts/{attempt.id}/review"))
    assert 'data-score="1.0"' in after and EXPLANATION in after and "Right answer" in after


def test_immediate_feedback_shows_each_try_but_no_key_until_submitted(
    client, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(
        feedback_timing="immediate", penalty=0.5,
        sections=[courses_rules.SectionSpec(kind="mha_params", difficulty="easy")],
    )
    as_user(client, enrolled[0])
    attempt = start(client, quiz)
    slot = slot_at(attempt, 0)
    wrong = {f"part-{name}": "1" for name in slot.item.variant.data["answer"]}
    response = post_answer(client, attempt, 0, wrong, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and "?q=0&" in response["Location"]
    page = text(client.get(response["Location"]))
    assert "Not correct" in page and "Worked solution" not in page
    right = {f"part-{k}": v for k, v in numeric_key_answer(slot.item).items()}
    post_answer(client, attempt, 0, right, django_capture_on_commit_callbacks)
    page = text(client.get(f"/attempts/{attempt.id}/?q=0"))
    # Right at the second try, minus the penalty for the first: the domain's mark.
    slot.refresh_from_db()
    assert slot.mark == 0.5 and 'data-mark="0.5"' in page and "Worked solution" not in page
    client.post(f"/attempts/{attempt.id}/submit")
    assert "Worked solution" in text(client.get(f"/attempts/{attempt.id}/review"))


def test_certainty_based_marking_asks_for_a_certainty(client, make_quiz, enrolled, django_capture_on_commit_callbacks):  # noqa: F811
    quiz = make_quiz(certainty_based_marking=True)
    as_user(client, enrolled[0])
    attempt = start(client, quiz)
    page = text(client.get(f"/attempts/{attempt.id}/"))
    assert page.count('name="certainty"') == 3 and "How sure are you?" in page
    # The scheme's own numbers: +3 right and -6 wrong at certainty 3.
    assert "(3 if right, -6 if wrong)" in page
    alpha, beta = choice(attempt, 0, 0), choice(attempt, 0, 1)
    missing = post_answer(client, attempt, 0, {"response": alpha}, django_capture_on_commit_callbacks)
    assert missing.status_code == 400 and "give a certainty of 1, 2 or 3" in text(missing)
    assert f'name="response" value="{alpha}" checked>' in text(missing)  # the choice made is kept
    assert not Submission.objects.exists()
    post_answer(client, attempt, 0, {"response": beta, "certainty": "3"}, django_capture_on_commit_callbacks)
    assert QuizAnswer.objects.get().certainty == 3
    client.post(f"/attempts/{attempt.id}/submit")
    attempt.refresh_from_db()
    assert attempt.score == -2.0  # 1 point * (-6) / 3: the domain's CBM mark
    assert 'data-score="-2.0"' in text(client.get(f"/attempts/{attempt.id}/review"))


def test_the_learner_sees_a_regrade_as_was_and_now(
    client, instructor, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(sections=[courses_rules.SectionSpec(questions=POOL_SLUGS[:1])])
    lea = enrolled[0]
    as_user(client, lea)
    attempt = start(client, quiz)
    post_answer(client, attempt, 0, {"response": choice(attempt, 0, 1)}, django_capture_on_commit_callbacks)  # wrong under v1
    client.post(f"/attempts/{attempt.id}/submit")
    first = QuestionVersion.objects.get(question__slug=POOL_SLUGS[0], status="published")
    catalogue_services.question_version_save(
        topic=first.question.topic, data=choice_question(POOL_SLUGS[0], right=1), status="published"
    )
    as_user(client, instructor)
    preview = text(client.get(f"/quizzes/{quiz.id}/regrade"))
    assert re.search(r"<th scope=\"row\">lea</th>.*?<td>0</td><td>1</td><td>v2</td>", preview, re.S)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/quizzes/{quiz.id}/regrade")
    assert response.status_code == 302 and "?run=" in response["Location"]
    assert 'data-run-state="done"' in text(client.get(response["Location"]))
    as_user(client, lea)
    review = text(client.get(f"/attempts/{attempt.id}/review"))
    assert review.count("Regraded: was 0, now 1.") == 2  # the attempt's score and the question's mark
    # The new score leads; the first grading ("Not correct") is kept, folded away, and the right
    # answer shown is the corrected key's (Beta), not the old one's.
    assert re.search(r"After the regrade this answer scores <strong>100(\.0)?%</strong>", review)
    assert re.search(r"<summary>As first graded, before the regrade</summary>.*?Not correct", review, re.S)
    key = review[review.index('<div class="key">'):]
    assert "Beta" in key[: key.index("</ul>")] and "Alpha" not in key[: key.index("</ul>")]


# --- Results -----------------------------------------------------------------------------------


def finish_quiz(quiz, learner, right: bool, django_capture_on_commit_callbacks):
    attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
    with django_capture_on_commit_callbacks(execute=True):
        submit(attempt, learner, 0, 0 if right else 1)
    return courses_services.attempt_submit(attempt=attempt, learner=learner)


def test_gradebook_table_and_csv(client, course, instructor, make_quiz, enrolled, django_capture_on_commit_callbacks):  # noqa: F811
    quiz = make_quiz(title="=HYPERLINK(1)")
    lea_attempt = finish_quiz(quiz, enrolled[0], True, django_capture_on_commit_callbacks)
    finish_quiz(quiz, enrolled[1], False, django_capture_on_commit_callbacks)
    as_user(client, instructor)
    page = text(client.get(f"/courses/{course.id}/gradebook"))
    assert f'href="/attempts/{lea_attempt.id}/review" aria-label="lea\'s latest attempt: review">(1)</a>' in page
    assert re.search(r'<tr data-learner="lea">\s*<th scope="row">lea</th>\s*<td><span data-grade>1</span>', page)
    assert re.search(r'<tr data-learner="leo">\s*<th scope="row">leo</th>\s*<td><span data-grade>0</span>', page)
    assert re.search(r'<tr data-learner="lia">\s*<th scope="row">lia</th>\s*<td>—', page)
    exported = client.get(f"/courses/{course.id}/gradebook.csv")
    assert exported["Content-Type"].startswith("text/csv") and "attachment" in exported["Content-Disposition"]
    assert exported.content.decode().splitlines()[0] == "username,'=HYPERLINK(1) (out of 1)"


def test_gradebook_queries_do_not_grow_with_learners_or_quizzes(
    client, course, instructor, make_quiz, enrolled, django_user_model, django_capture_on_commit_callbacks  # noqa: F811
):
    as_user(client, instructor)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/courses/{course.id}/gradebook").status_code == 200
        return len(queries)

    quiz = make_quiz()
    finish_quiz(quiz, enrolled[0], True, django_capture_on_commit_callbacks)
    small = count()
    for i in range(6):
        user = django_user_model.objects.create_user(username=f"extra{i}", password="x-pass-word-1")
        courses_services.course_join(user=user, code=course.join_code)
    for _ in range(3):
        extra = make_quiz()
        for learner in enrolled[:3]:
            finish_quiz(extra, learner, False, django_capture_on_commit_callbacks)
    assert count() == small


def test_statistics_page_shows_the_domain_figures_as_percentages(
    client, instructor, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    quiz = make_quiz(sections=[courses_rules.SectionSpec(questions=POOL_SLUGS[:1]), courses_rules.SectionSpec(questions=POOL_SLUGS[1:2])])

    def take(learner, first_right, second_right):
        attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
        with django_capture_on_commit_callbacks(execute=True):
            for position in (0, 1):
                slot = AttemptSlot.objects.get(attempt=attempt, position=position)
                right = first_right if slot.slot == 0 else second_right
                submit(attempt, learner, position, 0 if right else 1)
        courses_services.attempt_submit(attempt=attempt, learner=learner)

    for learner, a, b in zip(enrolled, (True, True, False, True), (True, False, False, True), strict=True):
        take(learner, a, b)
    stats = courses_selectors.quiz_statistics(quiz=quiz, user=instructor)
    as_user(client, instructor)
    page = text(client.get(f"/quizzes/{quiz.id}/statistics"))
    facility = stats["slots"][0]["facility"]
    assert facility == pytest.approx(0.75)
    assert f"<td data-facility>{facility * 100:.1f}</td>" in page
    assert f"{stats['slots'][1]['discrimination_index']:.1f}" in page
    assert f'data-alpha="{stats["quiz"]["cronbach_alpha"]}"' in page
    assert "From 4 submitted, fully graded first attempts" in page
    # Questions by their titles, not their slugs (issue #13, item 10).
    assert [q["title"] for q in stats["questions"]] == [f"Question {slug}" for slug in POOL_SLUGS[:2]]
    assert all(f"<th scope=\"row\">Question {slug}</th>" in page for slug in POOL_SLUGS[:2])
    assert f"<code>{POOL_SLUGS[0]}</code>" not in page
    assert client.get(f"/quizzes/{quiz.id}/statistics?attempts=some").status_code == 400
    assert client.get(f"/quizzes/{quiz.id}/statistics?attempts=all").status_code == 200


def test_review_queries_do_not_grow_with_questions(client, make_quiz, enrolled, instructor, django_capture_on_commit_callbacks):  # noqa: F811
    def review_queries(draw: int, learner) -> int:
        quiz = make_quiz(sections=[courses_rules.SectionSpec(questions=POOL_SLUGS, draw=draw)])
        attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
        with django_capture_on_commit_callbacks(execute=True):
            for position in range(draw):
                submit(attempt, learner, position, 0)
        courses_services.attempt_submit(attempt=attempt, learner=learner)
        as_user(client, learner)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"/attempts/{attempt.id}/review")
        assert page.status_code == 200 and text(page).count("Right answer:") == draw
        # Closed, so that the next quiz over the same pool does not withhold these keys.
        courses_services.quiz_close_now(quiz=quiz, actor=instructor)
        return len(queries)

    assert review_queries(3, enrolled[1]) == review_queries(1, enrolled[0])


def test_an_instructor_closes_an_open_quiz_from_its_page_and_a_ta_cannot(client, instructor, ta, make_quiz):  # noqa: F811
    quiz = make_quiz()
    as_user(client, ta)
    assert "Close now" not in text(client.get(f"/quizzes/{quiz.id}/"))
    assert client.post(f"/quizzes/{quiz.id}/close").status_code == 403
    as_user(client, instructor)
    assert "Close now" in text(client.get(f"/quizzes/{quiz.id}/"))
    response = client.post(f"/quizzes/{quiz.id}/close", follow=True)
    page = text(response)
    assert "The quiz is closed: attempts in progress were submitted." in page and "Closed" in page
    assert "Close now" not in page
    assert Quiz.objects.get(id=quiz.id).closes_at is not None


def test_an_instructor_previews_a_quiz_from_its_page(client, instructor, make_quiz, enrolled):  # noqa: F811
    quiz = make_quiz()
    as_user(client, enrolled[0])
    assert "Preview as a learner" not in text(client.get(f"/quizzes/{quiz.id}/"))
    as_user(client, instructor)
    assert "Preview as a learner" in text(client.get(f"/quizzes/{quiz.id}/"))
    response = client.post(f"/quizzes/{quiz.id}/preview")
    attempt = QuizAttempt.objects.get(learner=instructor)
    assert response.status_code == 302 and response["Location"] == f"/attempts/{attempt.id}/"
    page = text(client.get(response["Location"]))
    assert "Preview: you are taking your own quiz as a learner would." in page and 'name="response"' in page
