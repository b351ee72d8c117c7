"""Mock interview pages through Django's test client: status codes, no feedback before the end,
the server's deadline, the review."""

import math
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion, Topic
from questions.learning.models import MockInterview
from questions.learning.tasks import close_overdue_mocks
from questions.practice import jobs as practice_jobs
from questions.practice.models import Submission
from tests.choices import by_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def choice_topic(bank):
    """Single-choice questions only and no problem kinds: every interview is theory."""
    topic = catalogue_services.topic_upsert(slug="mock-choices", title="Choices")
    for version in QuestionVersion.objects.filter(data__type="single_choice", status="published")[:6]:
        catalogue_services.question_version_save(topic=topic, data={**version.data, "slug": f"copy-{version.data['slug']}"})
    return topic


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


def start(client, topics, preset="quick") -> MockInterview:
    response = client.post("/mock/start", {"topic": topics, "preset": preset})
    assert response.status_code == 302, response.content.decode()[:500]
    mock = MockInterview.objects.order_by("-id").first()
    assert response["Location"] == f"/mock/{mock.id}/"
    return mock


def entry(mock, position):
    return mock.entries.select_related("item__question_version", "item__variant").get(position=position).item


def worst_index(item) -> int:
    choices = item.question_version.data["choices"]
    return min(range(len(choices)), key=lambda i: choices[i]["weight"])


def best(item) -> str:
    """The id the form posts for the item's best option."""
    choices = item.question_version.data["choices"]
    return by_id(item, max(range(len(choices)), key=lambda i: choices[i]["weight"]))


def worst(item) -> str:
    """The id the form posts for the item's worst option."""
    return by_id(item, worst_index(item))


def first_choice(mock, position) -> str:
    """The id the form posts for the first option the author wrote for the question at `position`."""
    return by_id(entry(mock, position), 0)


def key_text(value) -> str:
    """A key value typed as a learner would: rows on lines, cells separated by spaces."""
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return "\n".join(key_text(row) for row in value)
        return " ".join(key_text(x) for x in value)
    return f"{value:.10g}" if isinstance(value, float) else str(value)


def test_pages_need_a_login(client, bank):
    response = client.get("/mock/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post("/mock/start", {"topic": ["masking"], "preset": "quick"}).status_code == 302
    assert not MockInterview.objects.exists()


def test_start_page_offers_every_topic_checked_and_the_lengths(logged_in, bank):
    page = logged_in.get("/mock/").content.decode()
    checked = re.findall(r'<input type="checkbox" name="topic" value="([\w-]+)" checked>', page)
    assert "masking" in checked and "softmax" in checked
    assert len(checked) == Topic.objects.count()  # every bank topic has published questions
    for label in ("3 questions in 6 minutes", "5 questions in 10 minutes", "10 questions in 20 minutes"):
        assert label in page
    assert "None yet." in page


@pytest.mark.parametrize(
    "data, message",
    [({"preset": "quick"}, "Choose at least one topic."),
     ({"topic": ["masking"], "preset": "forever"}, "Unknown length"),
     ({"topic": ["nope"], "preset": "quick"}, "Unknown topic: nope.")],
)
def test_bad_start_is_a_400_with_the_message_and_the_choices_kept(logged_in, bank, data, message):
    response = logged_in.post("/mock/start", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert not MockInterview.objects.exists()
    if data.get("topic") == ["masking"]:
        assert 'value="masking" checked' in page and 'value="softmax" checked' not in page


def test_the_interview_shows_questions_without_keys_feedback_or_scores(logged_in, bank):
    mock = start(logged_in, ["masking", "softmax"], preset="short")
    response = logged_in.get(f"/mock/{mock.id}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'data-seconds-left="(59\d|600)"', page), "the server's time left, about 10 minutes"
    assert page.count('href="?q=') == 5
    for position in range(1, 6):
        item = entry(mock, position)
        page = logged_in.get(f"/mock/{mock.id}/?q={position}").content.decode()
        assert f'action="/mock/{mock.id}/questions/{position}"' in page
        assert "data-score" not in page and "Score:" not in page  # _result.html never rendered
        if item.is_code:
            assert "data-code-editor" in page and item.variant.data["answer"]["code"] not in page
        elif item.is_numeric:
            assert "<math" in page
            for name in item.variant.data["answer"]:
                assert f'name="part-{name}"' in page
            assert "verification" not in page and "Worked solution" not in page
            for value in item.variant.data["answer"].values():
                flat = value if isinstance(value, list) else [value]
                flat = [x for row in flat for x in (row if isinstance(row, list) else [row])]
                for x in flat:
                    # Computed values only (three or more decimals): inputs in the prompt are
                    # integers or short decimals and may legitimately equal a key cell.
                    if isinstance(x, float) and math.isfinite(x) and abs(x) < 1e6 and abs(x * 100 - round(x * 100)) > 1e-6:
                        assert f"{x:.4f}" not in page, "a key value is on the page"
        else:
            data = item.question_version.data
            assert data["title"] in page
            assert data.get("explanation", "\x00") not in page
            for choice in data.get("choices", []):
                if choice.get("feedback"):
                    assert choice["feedback"] not in page


def test_an_answer_is_saved_without_feedback_and_can_be_replaced(logged_in, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    item = entry(mock, 1)
    response = logged_in.post(f"/mock/{mock.id}/questions/1", {"response": worst(item), "idempotency_key": "k1"})
    assert response.status_code == 302
    assert response["Location"] == f"/mock/{mock.id}/?q=2&saved=1"
    page = logged_in.get(response["Location"]).content.decode()
    assert "Answer to question 1 saved." in page
    assert "data-score" not in page
    assert "1 of 3 answered" in page
    # The same form posted twice (a double click) is one answer.
    logged_in.post(f"/mock/{mock.id}/questions/1", {"response": worst(item), "idempotency_key": "k1"})
    assert Submission.objects.filter(item=item).count() == 1
    page = logged_in.get(f"/mock/{mock.id}/?q=1").content.decode()
    assert "Your saved answer" in page and "Replace my answer" in page
    logged_in.post(f"/mock/{mock.id}/questions/1", {"response": best(item), "idempotency_key": "k2"})
    assert Submission.objects.filter(item=item).count() == 2


def test_an_unreadable_answer_is_a_400_and_costs_nothing(logged_in, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    response = logged_in.post(f"/mock/{mock.id}/questions/1", {})
    assert response.status_code == 400
    assert "could not be read" in response.content.decode()
    assert not Submission.objects.exists()


def test_an_answer_after_the_deadline_is_a_409_and_never_stored(logged_in, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    item = entry(mock, 1)
    deadline = timezone.now() - timedelta(seconds=1)
    MockInterview.objects.filter(id=mock.id).update(deadline=deadline)
    response = logged_in.post(f"/mock/{mock.id}/questions/1", {"response": best(item)})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Time is up" in page and "was not saved" in page
    assert not Submission.objects.exists()
    assert MockInterview.objects.get(id=mock.id).finished_at == deadline


def test_opening_the_interview_after_the_deadline_shows_the_review_and_beat_stores_the_finish(logged_in, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    deadline = timezone.now() - timedelta(minutes=1)
    MockInterview.objects.filter(id=mock.id).update(deadline=deadline)
    response = logged_in.get(f"/mock/{mock.id}/")
    assert response.status_code == 302 and response["Location"] == f"/mock/{mock.id}/review"
    page = logged_in.get(response["Location"]).content.decode()
    assert "Time is up" in page
    assert 'data-mock-score="0.0"' in page and "3 unanswered" in page
    # Reads never write: the beat task stores the finish, at the deadline, once.
    assert MockInterview.objects.get(id=mock.id).finished_at is None
    assert close_overdue_mocks() == 1 and close_overdue_mocks() == 0
    assert MockInterview.objects.get(id=mock.id).finished_at == deadline


def test_an_answer_after_the_deadline_is_refused_and_stores_the_finish(logged_in, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    deadline = timezone.now() - timedelta(minutes=1)
    MockInterview.objects.filter(id=mock.id).update(deadline=deadline)
    response = logged_in.post(f"/mock/{mock.id}/questions/1", {"response": first_choice(mock, 1)})
    assert response.status_code == 409 and "Time is up" in response.content.decode()
    assert MockInterview.objects.get(id=mock.id).finished_at == deadline


def test_no_review_while_the_interview_runs(logged_in, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    response = logged_in.get(f"/mock/{mock.id}/review")
    assert response.status_code == 302 and response["Location"] == f"/mock/{mock.id}/"
    assert logged_in.get(f"/mock/{mock.id}/review/body").status_code == 409


def test_finish_asks_first_then_finishes_once(logged_in, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    confirm = logged_in.get(f"/mock/{mock.id}/finish")
    assert confirm.status_code == 200
    assert "You have answered 0 of 3 questions" in confirm.content.decode()
    assert MockInterview.objects.get(id=mock.id).finished_at is None
    response = logged_in.post(f"/mock/{mock.id}/finish")
    assert response.status_code == 302 and response["Location"] == f"/mock/{mock.id}/review"
    finished_at = MockInterview.objects.get(id=mock.id).finished_at
    assert finished_at is not None
    assert logged_in.post(f"/mock/{mock.id}/finish").status_code == 302
    assert MockInterview.objects.get(id=mock.id).finished_at == finished_at
    assert logged_in.get(f"/mock/{mock.id}/finish")["Location"] == f"/mock/{mock.id}/review"
    # After finishing, an answer is refused.
    assert logged_in.post(f"/mock/{mock.id}/questions/1", {"response": first_choice(mock, 1)}).status_code == 409
    assert not Submission.objects.exists()


def test_the_review_puts_missed_questions_first_with_answers_results_and_practice_links(
    logged_in, choice_topic, django_capture_on_commit_callbacks
):
    mock = start(logged_in, [choice_topic.slug])
    right, wrong = entry(mock, 1), entry(mock, 2)
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(f"/mock/{mock.id}/questions/1", {"response": best(right)})
        logged_in.post(f"/mock/{mock.id}/questions/2", {"response": worst(wrong)})
    logged_in.post(f"/mock/{mock.id}/finish")
    response = logged_in.get(f"/mock/{mock.id}/review")
    assert response.status_code == 200
    page = response.content.decode()
    positions = re.findall(r'data-position="(\d)" data-outcome="(\w+)"', page)
    assert positions[-1] == ("1", "right")
    assert {p for p, _ in positions[:2]} == {"2", "3"}
    assert 'data-pending="0"' in page
    assert page.count('data-score="') == 2  # the two graded answers, through _result.html
    assert "You did not answer this question." in page
    wrong_choice = wrong.question_version.data["choices"][worst_index(wrong)]
    assert wrong_choice["feedback"][:30] in page  # the grader's feedback for the pick
    assert "Source:" in page
    assert page.count(f'action="/practice/topics/{choice_topic.slug}"') == 3
    history = logged_in.get("/mock/").content.decode()
    expected = round(100 * Submission.objects.filter(item=wrong).get().score / 3 + 100 / 3)
    assert f">{expected}%</strong>" in history


def test_the_review_says_which_answers_are_still_being_graded(logged_in, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    logged_in.post(f"/mock/{mock.id}/questions/1", {"response": best(entry(mock, 1))})  # not graded yet
    logged_in.post(f"/mock/{mock.id}/finish")
    page = logged_in.get(f"/mock/{mock.id}/review").content.decode()
    assert "Still grading 1 answer" in page and 'data-pending="1"' in page
    assert 'http-equiv="refresh"' in page
    practice_jobs.submission_grade(submission_id=Submission.objects.get().id)
    body = logged_in.get(f"/mock/{mock.id}/review/body")
    assert body.status_code == 200
    assert 'data-pending="0"' in body.content.decode() and 'data-outcome="right"' in body.content.decode()


def test_a_numeric_answer_typed_as_text_is_graded_in_the_review(logged_in, bank, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    from attention_engine.api import is_code_kind
    from questions.learning import services as learning_services

    kinds_for_topics = learning_services.kinds_for_topics  # numeric kinds only: this is about typed numbers
    monkeypatch.setattr(learning_services, "kinds_for_topics",
                        lambda slugs: [k for k in kinds_for_topics(slugs) if not is_code_kind(k)])
    mock = start(logged_in, ["masking"])
    position, item = next(
        (e.position, e.item) for e in mock.entries.select_related("item__variant") if e.item.is_numeric
    )
    fields = {f"part-{name}": key_text(value) for name, value in item.variant.data["answer"].items()}
    with django_capture_on_commit_callbacks(execute=True):
        assert logged_in.post(f"/mock/{mock.id}/questions/{position}", fields).status_code == 302
    # The typed answer is kept in the form while the interview runs.
    first_part = next(iter(fields))
    assert fields[first_part].split()[0] in logged_in.get(f"/mock/{mock.id}/?q={position}").content.decode()
    bad = dict(fields, **{first_part: "one two"})
    response = logged_in.post(f"/mock/{mock.id}/questions/{position}", bad)
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
    logged_in.post(f"/mock/{mock.id}/finish")
    page = logged_in.get(f"/mock/{mock.id}/review").content.decode()
    assert f'data-position="{position}" data-outcome="right"' in page
    assert 'action="/practice/new"' in page and f'value="{item.variant.data["kind"]}"' in page


def test_another_learner_gets_404_on_every_page(logged_in, client, other_learner, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    client.force_login(other_learner)
    for url in (f"/mock/{mock.id}/", f"/mock/{mock.id}/finish", f"/mock/{mock.id}/review",
                f"/mock/{mock.id}/review/body"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/mock/{mock.id}/questions/1", {"response": first_choice(mock, 1)}).status_code == 404
    assert client.post(f"/mock/{mock.id}/finish").status_code == 404
    assert not Submission.objects.exists()
    assert MockInterview.objects.get(id=mock.id).finished_at is None


def test_a_question_the_interview_does_not_have_is_a_404(logged_in, choice_topic):
    mock = start(logged_in, [choice_topic.slug])
    assert logged_in.post(f"/mock/{mock.id}/questions/9", {"response": first_choice(mock, 1)}).status_code == 404


def test_pages_keep_their_query_count_as_interviews_grow(
    logged_in, choice_topic, django_assert_max_num_queries
):
    mock = start(logged_in, [choice_topic.slug], preset="short")
    for position in range(1, 6):
        saved = logged_in.post(f"/mock/{mock.id}/questions/{position}", {"response": first_choice(mock, position)})
        assert saved.status_code == 302
    with django_assert_max_num_queries(12):
        assert logged_in.get(f"/mock/{mock.id}/?q=3").status_code == 200
    logged_in.post(f"/mock/{mock.id}/finish")
    with django_assert_max_num_queries(12):
        assert logged_in.get(f"/mock/{mock.id}/review").status_code == 200
    with django_assert_max_num_queries(12):
        assert logged_in.get("/mock/").status_code == 200


def test_the_review_of_unanswered_questions_gives_their_keys(logged_in, bank):
    mock = start(logged_in, ["scaled-dot-product"])
    MockInterview.objects.filter(id=mock.id).update(deadline=timezone.now() - timedelta(minutes=1))
    page = logged_in.get(f"/mock/{mock.id}/review").content.decode()
    items = [e.item for e in mock.entries.select_related("item__question_version", "item__variant")]
    numeric = [i for i in items if i.is_numeric and not i.is_code]
    code = [i for i in items if i.is_code]
    theory = [i for i in items if not i.is_numeric]
    assert numeric + code and theory, "the interview mixes both kinds"
    assert page.count(">Worked solution</h3>") == len(numeric)
    assert page.count("<strong>A model solution:</strong>") == len(code)
    assert page.count("<strong>Right answer:</strong>") == len(theory)
    for item in theory:
        assert item.question_version.data["source"] in page


def test_a_code_exercise_in_an_interview_is_written_saved_and_reviewed(
    sandboxed, logged_in, bank, django_capture_on_commit_callbacks
):
    """RoPE's topic has one problem kind, a code exercise: the interview's problem places hold
    its editor; the code is saved without feedback and graded per test in the review."""
    mock = start(logged_in, ["rope-and-alibi"], preset="quick")
    entries = list(mock.entries.select_related("item__variant").order_by("position"))
    code = next(e for e in entries if e.item.variant_id)
    assert code.item.is_code and code.item.variant.kind == "code_rope"
    solution = code.item.variant.data["answer"]["code"]
    page = logged_in.get(f"/mock/{mock.id}/?q={code.position}").content.decode()
    assert "data-code-editor" in page and "Run examples" in page
    assert "def apply_rope(x, positions):" in page and solution not in page
    with django_capture_on_commit_callbacks(execute=True):
        saved = logged_in.post(f"/mock/{mock.id}/questions/{code.position}", {"code": solution.replace("\n", "\r\n")})
    assert saved.status_code == 302
    assert "data-score" not in logged_in.get(saved["Location"]).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(f"/mock/{mock.id}/finish")
    graded = Submission.objects.get(item=code.item)
    assert graded.status == "graded" and graded.score == 1.0 and graded.answer == {"code": solution}
    review = logged_in.get(f"/mock/{mock.id}/review").content.decode()
    assert review.count('class="code-test passed"') == len(code.item.variant.data["answer"]["tests"])
    assert "(code)" in review
