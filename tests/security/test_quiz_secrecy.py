"""Quiz secrecy (issue #11, findings 1 to 3): who owns a question, what a learner in the middle of a
quiz can meet elsewhere, which version a quiz draws, how options are named.

Each test failed before the change: any instructor could publish over any question, practice
served (and explained) the questions of an open quiz, items carried the slug and the version,
a quiz drew whatever was published last, and choices were numbered in the author's order.
"""

from __future__ import annotations

import json
import random

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import Question, QuestionVersion
from questions.catalogue.theory import grade_theory
from questions.catalogue.visibility import QuestionWithheld
from questions.courses import services as courses_services
from questions.courses.models import AttemptSlot
from questions.courses.rules import SectionSpec
from questions.errors import AnswerFormatError, QuestionInvalid, ServiceError
from questions.keyed import choice_ids
from questions.learning import selectors as learning_selectors
from questions.learning import services as learning_services
from questions.learning.models import ReviewCard
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-word"
TOPIC = "secrecy"


def question(slug: str, *, right: int = 0, texts=("Alpha", "Beta", "Gamma", "Delta")) -> dict:
    return {
        "slug": slug, "title": "Which one?", "type": "single_choice", "difficulty": "easy",
        "prompt": "Pick the right answer.",
        "choices": [{"text": t, "weight": 100 if i == right else 0, "feedback": "Yes." if i == right else f"Not {t}."}
                    for i, t in enumerate(texts)],
        "explanation": "Because the fixture says so.", "source": "Test fixture",
    }


def publish(slug: str, *, owner=None, **kwargs) -> QuestionVersion:
    topic = catalogue_services.topic_upsert(slug=TOPIC, title="Secrecy")
    version, _ = catalogue_services.question_version_save(
        topic=topic, data=question(slug, **kwargs), status=QuestionVersion.Status.PUBLISHED, owner=owner
    )
    return version


def user(django_user_model, name: str, *, instructor=False, staff=False):
    made = django_user_model.objects.create_user(username=name, password=PASSWORD, is_staff=staff)
    if instructor:
        made.groups.add(Group.objects.get_or_create(name="instructors")[0])
    return made


@pytest.fixture
def teacher(django_user_model):
    return user(django_user_model, "teacher", instructor=True)


@pytest.fixture
def rival(django_user_model):
    return user(django_user_model, "rival", instructor=True)


@pytest.fixture
def staff(django_user_model):
    return user(django_user_model, "staff", instructor=True, staff=True)


@pytest.fixture
def course(teacher):
    return courses_services.course_create(title="Attention 101", instructor=teacher)


@pytest.fixture
def rival_course(rival):
    return courses_services.course_create(title="Rival 101", instructor=rival)


@pytest.fixture
def student(django_user_model, course):
    learner = user(django_user_model, "student")
    courses_services.course_join(user=learner, code=course.join_code)
    return learner


def browser(who) -> Client:
    client = Client()
    client.force_login(who)
    return client


def edit_form(slug: str, owner: str, title: str) -> dict:
    data = question(slug)
    return {
        "owner": owner, "topic": TOPIC, "slug": slug, "type": "single_choice", "difficulty": "easy",
        "title": title, "prompt": data["prompt"], "explanation": data["explanation"], "source": data["source"],
        "tags": "", "hints": "", "action": "publish",
        "spec": json.dumps({"choices": data["choices"]}),  # JSON is YAML
    }


# --- Finding 3: anyone edited anyone's questions ----------------------------------------------


def test_a_course_question_is_edited_by_its_course_instructors_only(teacher, rival, course, rival_course):
    mine = publish("ours-only", owner=course)
    rival_page = browser(rival)
    assert rival_page.get("/author/questions/ours-only/").status_code == 404
    refused = rival_page.post("/author/questions/new", edit_form("ours-only", str(rival_course.id), "Hijacked"))
    assert refused.status_code == 400 and "taken by a question you cannot edit" in refused.content.decode()
    # Naming the owner's course in the form is not a way in either: it is not the rival's to write for.
    assert rival_page.post("/author/questions/new", edit_form("ours-only", str(course.id), "Hijacked")).status_code == 400
    assert list(Question.objects.get(slug="ours-only").versions.values_list("id", flat=True)) == [mine.id]
    assert "ours-only" not in rival_page.get("/author/").content.decode()
    assert "ours-only" not in rival_page.get("/author/export?format=gift").content.decode()

    saved = browser(teacher).post("/author/questions/ours-only/", edit_form("ours-only", str(course.id), "Better"))
    assert saved.status_code == 302
    assert QuestionVersion.objects.get(question__slug="ours-only", status="published").data["title"] == "Better"


def test_the_public_bank_is_edited_by_site_staff_only(teacher, staff, course):
    publish("bank-question")
    page = browser(teacher)
    assert page.get("/author/questions/bank-question/").status_code == 403
    assert page.post("/author/questions/new", edit_form("bank-question", "public", "Hijacked")).status_code == 400
    assert page.post("/author/questions/new", edit_form("bank-question", str(course.id), "Hijacked")).status_code == 400
    assert QuestionVersion.objects.filter(question__slug="bank-question").count() == 1

    assert browser(staff).post("/author/questions/bank-question/", edit_form("bank-question", "public", "v2")).status_code == 302
    assert QuestionVersion.objects.filter(question__slug="bank-question").count() == 2


def test_saving_or_importing_a_slug_for_another_owner_changes_nothing(course, rival_course):
    publish("ours-only", owner=course)
    with pytest.raises(QuestionInvalid, match="taken"):
        publish("ours-only", owner=rival_course)
    with pytest.raises(QuestionInvalid, match="taken"):
        publish("ours-only", owner=None)  # not even the bank loader takes a course's slug over
    gift = "::ours-only:: Attention weights in a row sum to one. {T}\n"
    with pytest.raises(QuestionInvalid):
        catalogue_services.questions_import(text=gift, format="gift", owner=rival_course)
    assert QuestionVersion.objects.filter(question__slug="ours-only").count() == 1


def test_a_quiz_draws_only_the_public_bank_and_its_own_course(teacher, rival, course, rival_course):
    publish("ours-only", owner=course)
    publish("bank-question")
    with pytest.raises(ServiceError, match="ours-only"):
        courses_services.quiz_create(course=rival_course, actor=rival, title="Q",
                                     sections=[SectionSpec(questions=["ours-only"])])
    builder = browser(rival).get(f"/courses/{rival_course.id}/quizzes/new").content.decode()
    assert "bank-question" in builder and "ours-only" not in builder
    courses_services.quiz_create(course=course, actor=teacher, title="Q",
                                 sections=[SectionSpec(questions=["ours-only", "bank-question"])])


# --- Finding 1: quiz keys through practice ----------------------------------------------------


def test_a_course_question_never_appears_in_practice(student, course):
    publish("ours-only", owner=course)
    publish("bank-question")
    served = {practice_services.practice_item_create_for_topic(learner=student, topic_slug=TOPIC)
              .question_version.question.slug for _ in range(6)}
    assert served == {"bank-question"}


def practice_slugs(learner, rounds: int = 8) -> set[str]:
    return {practice_services.practice_item_create_for_topic(learner=learner, topic_slug=TOPIC)
            .question_version.question.slug for _ in range(rounds)}


def test_an_open_quizs_questions_are_withheld_from_its_learners_everywhere_until_it_closes(
    teacher, student, other_learner, course, django_capture_on_commit_callbacks
):
    for slug in ("in-quiz", "also-in-quiz", "free"):
        publish(slug)
    # Before the quiz: the student practised "in-quiz", was graded, and has a card for it.
    old = practice_services.practice_item_create_for_topic(learner=student, topic_slug=TOPIC)
    while old.question_version.question.slug != "in-quiz":
        old = practice_services.practice_item_create_for_topic(learner=student, topic_slug=TOPIC)
    wrong = choice_ids(old.id, 4)[1]
    with django_capture_on_commit_callbacks(execute=True):
        graded = practice_services.submission_create(learner=student, item=old, answer={"response": wrong}).submission
    ReviewCard.objects.filter(learner=student).update(due=timezone.now())

    quiz = courses_services.quiz_create(course=course, actor=teacher, title="Midterm",
                                        sections=[SectionSpec(questions=["in-quiz", "also-in-quiz"], draw=2)])
    courses_services.quiz_open(quiz=quiz, actor=teacher)
    courses_services.attempt_start(quiz=quiz, learner=student)

    assert practice_slugs(student) == {"free"}
    assert practice_slugs(other_learner) == {"in-quiz", "also-in-quiz", "free"}  # not in the course
    page, api = browser(student), APIClient()
    api.force_authenticate(student)
    for url in (f"/practice/items/{old.id}/", f"/practice/submissions/{graded.id}/result",
                f"/api/v1/practice/items/{old.id}", f"/api/v1/submissions/{graded.id}"):
        response = (api if url.startswith("/api/") else page).get(url)
        assert response.status_code == 403, url
        assert "still open" in response.content.decode()
        assert "Alpha" not in response.content.decode()  # the key's text
    refused = api.post(f"/api/v1/practice/items/{old.id}/submissions", {"answer": {"response": wrong}}, format="json")
    assert refused.status_code == 403
    assert learning_selectors.reviews_due(learner=student).filter(question__isnull=False).count() == 0
    assert learning_services.review_item_next(learner=student) is None
    mock_pool = learning_selectors.theory_candidates(learner=student, topic_slugs=[TOPIC], rng=random.Random(1))
    assert {v.question.slug for v in mock_pool} == {"free"}

    courses_services.quiz_close_now(quiz=quiz, actor=teacher)
    assert page.get(f"/practice/items/{old.id}/").status_code == 200
    assert "in-quiz" in practice_slugs(student, rounds=12)
    assert learning_services.review_item_next(learner=student) is not None


def test_a_learner_mid_attempt_practises_every_topic_and_meets_no_quiz_key(
    teacher, student, course, bank, django_capture_on_commit_callbacks
):
    quiz_versions = list(
        QuestionVersion.objects.filter(status="published", data__type__in=["single_choice", "short_answer", "numeric"])
        .order_by("question__slug")[:9]
    )
    quiz = courses_services.quiz_create(
        course=course, actor=teacher, title="Every topic",
        sections=[SectionSpec(questions=[v.question.slug for v in quiz_versions], draw=9)],
    )
    courses_services.quiz_open(quiz=quiz, actor=teacher)
    courses_services.attempt_start(quiz=quiz, learner=student)
    # What would give each slot away: its slug, and the sentence its feedback reveals the key in.
    secrets = {v.question.slug for v in quiz_versions}
    secrets |= {grade_theory(v.data, "an answer nobody gives")["reveals"] for v in quiz_versions} - {""}
    api = APIClient()
    api.force_authenticate(student)
    bodies = []
    for topic in api.get("/api/v1/topics").json():
        for _ in range(12):
            made = api.post("/api/v1/practice/items", {"topic": topic["slug"]}, format="json")
            bodies.append(made.content.decode())
            if made.status_code != 201:
                break
            item = made.json()
            if item["type"] == "numeric":
                continue
            with django_capture_on_commit_callbacks(execute=True):
                sent = api.post(f"/api/v1/practice/items/{item['id']}/submissions",
                                {"answer": {"response": "an answer nobody gives"}}, format="json")
            bodies.append(sent.content.decode())
            if sent.status_code == 201:
                bodies.append(api.get(f"/api/v1/submissions/{sent.json()['id']}").content.decode())
    theory_served = PracticeItem.objects.filter(learner=student, purpose="practice", question_version__isnull=False)
    assert theory_served.exists()  # the scan practised theory, not only numbers
    assert not theory_served.filter(question_version__question__slug__in=secrets).exists()
    leaked = [s for s in secrets for body in bodies if s in body]
    assert leaked == []


def test_learners_never_receive_slugs_or_version_numbers(student, course, teacher, django_capture_on_commit_callbacks):
    publish("mask-teacher-forcing-name")
    api = APIClient()
    api.force_authenticate(student)
    item = api.post("/api/v1/practice/items", {"topic": TOPIC}, format="json").json()
    assert "slug" not in item and "version" not in item
    assert "mask-teacher-forcing-name" not in json.dumps(item)
    quiz = courses_services.quiz_create(course=course, actor=teacher, title="Q",
                                        sections=[SectionSpec(questions=["mask-teacher-forcing-name"])])
    courses_services.quiz_open(quiz=quiz, actor=teacher)
    attempt = api.post(f"/api/v1/quizzes/{quiz.id}/attempts", format="json")
    assert attempt.status_code == 201
    assert "mask-teacher-forcing-name" not in attempt.content.decode()
    page = browser(student).get(f"/attempts/{attempt.json()['id']}/").content.decode()
    assert "mask-teacher-forcing-name" not in page


# --- Pinned versions ---------------------------------------------------------------------------


def test_a_quiz_keeps_the_versions_it_opened_with_until_its_owner_regrades(teacher, staff, course, django_user_model):
    v1 = publish("pinned", right=0)
    quiz = courses_services.quiz_create(course=course, actor=teacher, title="Q", attempts_allowed=0,
                                        sections=[SectionSpec(questions=["pinned"])])
    courses_services.quiz_open(quiz=quiz, actor=teacher)
    v2 = publish("pinned", right=2)  # site staff change the key while the quiz is open
    assert v2.number == 2

    def drawn_version(name: str) -> QuestionVersion:
        learner = user(django_user_model, name)
        courses_services.course_join(user=learner, code=course.join_code)
        attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
        return AttemptSlot.objects.get(attempt=attempt).item.question_version

    assert drawn_version("early") == v1
    regrade_page = browser(teacher).get(f"/quizzes/{quiz.id}/regrade").content.decode()
    assert "v1 → v2" in regrade_page and "Apply the regrade" in regrade_page
    courses_services.regrade_start(quiz=quiz, user=teacher)  # the owner moves the quiz on
    assert "v1 → v2" not in browser(teacher).get(f"/quizzes/{quiz.id}/regrade").content.decode()
    assert drawn_version("late") == v2


# --- Finding 2: choices in the author's order, named by position -------------------------------


def test_choices_are_named_by_opaque_ids_in_an_order_of_each_item(student, other_learner, django_capture_on_commit_callbacks):
    publish("shuffled")
    items, orders = [], set()
    for who in (student, other_learner) * 4:
        item = practice_services.practice_item_create_for_topic(learner=who, topic_slug=TOPIC)
        api = APIClient()
        api.force_authenticate(who)
        view = api.get(f"/api/v1/practice/items/{item.id}").json()
        texts = [c["text"] for c in view["choices"]]
        ids = [c["id"] for c in view["choices"]]
        assert sorted(texts) == ["Alpha", "Beta", "Delta", "Gamma"]
        assert not any(i.isdigit() for i in ids) and len(set(ids)) == 4
        orders.add(tuple(texts))
        items.append((who, item, api, {c["text"]: c["id"] for c in view["choices"]}))
    assert len(orders) > 1  # not the author's order for everyone
    assert len({ids["Alpha"] for _, _, _, ids in items}) == len(items)  # an id names nothing elsewhere

    who, item, api, ids = items[0]
    for bad in (0, "0", items[1][3]["Alpha"]):  # a position, or the right answer's id on another item
        refused = api.post(f"/api/v1/practice/items/{item.id}/submissions", {"answer": {"response": bad}}, format="json")
        assert refused.status_code == 400, bad
    with pytest.raises(AnswerFormatError):
        practice_services.submission_create(learner=who, item=item, answer={"response": 0})
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(f"/api/v1/practice/items/{item.id}/submissions", {"answer": {"response": ids["Alpha"]}}, format="json")
    assert sent.status_code in (201, 202)
    assert api.get(f"/api/v1/submissions/{sent.json()['id']}").json()["score"] == 1.0


def test_a_withheld_question_refuses_with_its_own_error(student, course, teacher):
    publish("in-quiz")
    item = practice_services.practice_item_create_for_topic(learner=student, topic_slug=TOPIC)
    quiz = courses_services.quiz_create(course=course, actor=teacher, title="Q", sections=[SectionSpec(questions=["in-quiz"])])
    courses_services.quiz_open(quiz=quiz, actor=teacher)
    from questions.practice import selectors as practice_selectors

    with pytest.raises(QuestionWithheld):
        practice_selectors.practice_item_for_learner(learner=student, item_id=item.id)


def test_a_finished_quizs_review_keeps_back_the_keys_another_open_quiz_draws(teacher, student, course):
    """The second reading's finding: quiz 1 (closed, keys due) and quiz 2 (open) draw the same
    public question; quiz 1's review showed its key. It is kept back until quiz 2 closes."""
    KEY = "Because the fixture says so."  # the explanation: shown with the key only
    publish("shared")
    first = courses_services.quiz_create(course=course, actor=teacher, title="Q1", sections=[SectionSpec(questions=["shared"])])
    courses_services.quiz_open(quiz=first, actor=teacher)
    attempt = courses_services.attempt_start(quiz=first, learner=student)
    courses_services.attempt_submit(attempt=attempt, learner=student)
    page = browser(student)
    assert KEY in page.get(f"/attempts/{attempt.id}/review").content.decode()  # keys due after submission
    second = courses_services.quiz_create(course=course, actor=teacher, title="Q2", sections=[SectionSpec(questions=["shared"])])
    courses_services.quiz_open(quiz=second, actor=teacher)
    api = APIClient()
    api.force_authenticate(student)
    assert KEY not in page.get(f"/attempts/{attempt.id}/review").content.decode()
    assert KEY not in api.get(f"/api/v1/attempts/{attempt.id}").content.decode()
    courses_services.quiz_close_now(quiz=second, actor=teacher)
    assert KEY in page.get(f"/attempts/{attempt.id}/review").content.decode()


def test_an_instructor_learning_in_a_course_cannot_export_its_open_quizs_questions(teacher, rival, course, django_user_model):
    """The second reading's finding: a member of `instructors` who is a learner in another course
    exported the public bank, keys included, while that course's quiz drew from it."""
    publish("in-quiz")
    publish("free")
    courses_services.course_join(user=rival, code=course.join_code)  # an instructor elsewhere, a learner here
    quiz = courses_services.quiz_create(course=course, actor=teacher, title="Q", sections=[SectionSpec(questions=["in-quiz"])])
    courses_services.quiz_open(quiz=quiz, actor=teacher)
    courses_services.course_create(title="Rival's own", instructor=rival)
    exported = browser(rival).get("/author/export?format=gift").content.decode()
    assert "[id:free]" in exported and "[id:in-quiz]" not in exported
    courses_services.quiz_close_now(quiz=quiz, actor=teacher)
    assert "[id:in-quiz]" in browser(rival).get("/author/export?format=gift").content.decode()


def test_a_finished_mocks_review_is_refused_while_one_of_its_questions_is_withheld(teacher, student, course):
    publish("in-quiz")
    mock = learning_services.mock_interview_start(learner=student, topic_slugs=[TOPIC], preset_key="quick").mock
    learning_services.mock_interview_finish(learner=student, mock_id=mock.id)
    page = browser(student)
    assert page.get(f"/mock/{mock.id}/review").status_code == 200
    quiz = courses_services.quiz_create(course=course, actor=teacher, title="Q", sections=[SectionSpec(questions=["in-quiz"])])
    courses_services.quiz_open(quiz=quiz, actor=teacher)
    refused = page.get(f"/mock/{mock.id}/review")
    assert refused.status_code == 403 and "still open" in refused.content.decode()
    courses_services.quiz_close_now(quiz=quiz, actor=teacher)
    assert page.get(f"/mock/{mock.id}/review").status_code == 200
