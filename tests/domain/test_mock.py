"""Mock interviews: questions made up front, the server's deadline, idempotent finish, review."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from questions import errors as errors
from questions.catalogue import services as catalogue_services
from questions.catalogue.models import Topic
from questions.learning import jobs as learning_jobs
from questions.learning import rules as learning_rules
from questions.learning import selectors as learning_selectors
from questions.learning import services as learning_services
from questions.learning.models import MockInterview
from questions.practice import jobs as practice_jobs
from questions.practice.models import PracticeItem, Purpose, Submission
from tests.choices import by_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def choice_topic(bank):
    """A topic of single-choice questions only (copied from the bank), and no problem kinds:
    its interviews are all theory, with answers the test can get right or wrong at will."""
    from questions.catalogue.models import QuestionVersion

    topic = catalogue_services.topic_upsert(slug="mock-choices", title="Choices")
    sources = QuestionVersion.objects.filter(data__type="single_choice", status="published")[:6]
    for version in sources:
        catalogue_services.question_version_save(topic=topic, data={**version.data, "slug": f"copy-{version.data['slug']}"})
    return topic


def best_choice(item) -> str:
    """The id of the item's best option, as a learner would send it."""
    choices = item.question_version.data["choices"]
    return by_id(item, max(range(len(choices)), key=lambda i: choices[i]["weight"]))


def worst_choice(item) -> str:
    """The id of the item's worst option, as a learner would send it."""
    choices = item.question_version.data["choices"]
    return by_id(item, min(range(len(choices)), key=lambda i: choices[i]["weight"]))


def entry_items(mock) -> list[PracticeItem]:
    return [e.item for e in mock.entries.select_related("item__variant", "item__question_version").order_by("position")]


def start(learner, topics, preset="quick"):
    return learning_services.mock_interview_start(learner=learner, topic_slugs=topics, preset_key=preset)


def test_start_makes_every_question_up_front_mixing_theory_and_numeric(learner, bank):
    started = start(learner, ["masking", "softmax"], preset="short")
    mock = started.mock
    assert started.created
    items = entry_items(mock)
    assert [e.position for e in mock.entries.order_by("position")] == [1, 2, 3, 4, 5]
    assert mock.question_count == 5
    numeric = [i for i in items if i.is_numeric]
    theory = [i for i in items if not i.is_numeric]
    assert len(numeric) == 2  # about a third of five
    assert len(theory) == 3
    assert {i.purpose for i in items} == {Purpose.MOCK}
    assert {i.question_version.question.topic.slug for i in theory} <= {"masking", "softmax"}
    assert len({i.question_version.question_id for i in theory}) == 3, "a question came twice"
    # Kinds of the chosen topics only (engine.list_kinds() names each kind's topics).
    assert {i.variant.data["kind"] for i in numeric} <= {
        "self_attention", "qkv_pipeline", "by_hand", "softmax_stability", "causal_mask", "padding_mask",
        "code_attention_numpy", "code_attention_torch", "code_stable_softmax", "code_causal_attention",
        "code_padding_attention",
    }
    assert mock.deadline - mock.started_at == timedelta(minutes=10)
    assert mock.topics == ["masking", "softmax"]


@pytest.mark.parametrize("refusal", [errors.ServiceUnavailable("The worker did not answer."),
                                     errors.Preparing("The problem is being prepared.")])
def test_numeric_places_fall_back_to_theory_when_the_worker_cannot_make_a_variant(learner, bank, monkeypatch, refusal):
    calls = []

    def unavailable(**kwargs):
        calls.append(kwargs)
        raise refusal

    monkeypatch.setattr(learning_services, "practice_item_create_numeric", unavailable)
    mock = start(learner, ["masking"], preset="short").mock
    items = entry_items(mock)
    assert len(items) == 5 and not any(i.is_numeric for i in items)
    assert len(calls) == 1, "after one refusal the worker is not asked again for every place"


def test_a_topic_without_problem_kinds_gives_theory_only(learner, choice_topic):
    mock = start(learner, [choice_topic.slug]).mock
    assert len(entry_items(mock)) == 3
    assert not any(i.is_numeric for i in entry_items(mock))


def test_starting_twice_while_one_runs_returns_the_running_one(learner, choice_topic):
    first = start(learner, [choice_topic.slug])
    second = start(learner, [choice_topic.slug], preset="standard")
    assert not second.created and second.mock.id == first.mock.id
    assert MockInterview.objects.count() == 1
    learning_services.mock_interview_finish(learner=learner, mock_id=first.mock.id)
    assert start(learner, [choice_topic.slug]).created


@pytest.mark.parametrize(
    "topics, preset, message",
    [([], "quick", "Choose at least one topic"), (["no-such-topic"], "quick", "Unknown topic"),
     (["masking"], "marathon", "Unknown length")],
)
def test_bad_start_requests_are_refused_with_a_message(learner, bank, topics, preset, message):
    with pytest.raises(errors.ServiceError) as caught:
        start(learner, topics, preset)
    assert message in caught.value.message
    assert not MockInterview.objects.exists() and not PracticeItem.objects.exists()


def test_a_topic_with_nothing_to_ask_is_refused(learner, db):
    Topic.objects.create(slug="empty", title="Empty")
    with pytest.raises(errors.ServiceUnavailable):
        start(learner, ["empty"])
    assert not MockInterview.objects.exists()


def test_an_answer_before_the_deadline_is_stored_and_after_it_refused_and_not_stored(learner, choice_topic):
    mock = start(learner, [choice_topic.slug]).mock
    item = entry_items(mock)[0]
    learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer={"response": best_choice(item)})
    assert Submission.objects.filter(item=item).count() == 1
    # The clock moves past the deadline (shifted in the database, as the server sees it).
    MockInterview.objects.filter(id=mock.id).update(deadline=timezone.now() - timedelta(seconds=1))
    with pytest.raises(errors.MockClosed) as caught:
        learning_services.mock_answer_submit(
            learner=learner, mock_id=mock.id, position=2, answer={"response": by_id(entry_items(mock)[1], 0)}
        )
    assert "Time is up" in caught.value.message
    assert Submission.objects.count() == 1


def test_an_answer_after_finishing_is_refused_even_before_the_deadline(learner, choice_topic):
    mock = start(learner, [choice_topic.slug]).mock
    learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    with pytest.raises(errors.MockClosed) as caught:
        learning_services.mock_answer_submit(
            learner=learner, mock_id=mock.id, position=1, answer={"response": by_id(entry_items(mock)[0], 0)}
        )
    assert "finished" in caught.value.message
    assert not Submission.objects.exists()


def test_an_unreadable_answer_is_refused_without_cost(learner, choice_topic):
    mock = start(learner, [choice_topic.slug]).mock
    with pytest.raises(errors.AnswerFormatError):
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer={"response": ""})
    assert not Submission.objects.exists()


def test_finishing_is_idempotent(learner, choice_topic):
    mock = start(learner, [choice_topic.slug]).mock
    first = learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    assert first.finished_at is not None and first.finished_at < mock.deadline
    again = learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    assert again.finished_at == first.finished_at
    assert not learning_rules.is_time_up(again)


def test_an_interview_past_its_deadline_is_finished_at_the_deadline(learner, choice_topic):
    mock = start(learner, [choice_topic.slug]).mock
    deadline = timezone.now() - timedelta(minutes=3)
    MockInterview.objects.filter(id=mock.id).update(deadline=deadline)
    mock.refresh_from_db()
    assert learning_selectors.mock_active(learner=learner) is None
    learning_jobs.mock_interview_expire(mock=mock)
    assert MockInterview.objects.get(id=mock.id).finished_at == deadline
    # Finishing later, by hand, does not move it.
    assert learning_services.mock_interview_finish(learner=learner, mock_id=mock.id).finished_at == deadline
    assert learning_rules.is_time_up(mock)


def test_another_learner_gets_404_everywhere(learner, other_learner, choice_topic):
    mock = start(learner, [choice_topic.slug]).mock
    with pytest.raises(Http404):
        learning_selectors.mock_for_learner(learner=other_learner, mock_id=mock.id)
    with pytest.raises(Http404):
        learning_services.mock_answer_submit(
            learner=other_learner, mock_id=mock.id, position=1, answer={"response": by_id(entry_items(mock)[0], 0)}
        )
    with pytest.raises(Http404):
        learning_services.mock_interview_finish(learner=other_learner, mock_id=mock.id)
    assert not Submission.objects.exists()
    assert MockInterview.objects.get(id=mock.id).finished_at is None
    assert learning_selectors.mock_history(learner=other_learner) == []


def test_the_last_answer_counts_and_the_review_puts_missed_questions_first(
    learner, choice_topic, django_capture_on_commit_callbacks
):
    mock = start(learner, [choice_topic.slug]).mock
    first, second, third = entry_items(mock)
    with django_capture_on_commit_callbacks(execute=True):
        # Question 1: wrong, then right (the last answer counts).
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer={"response": worst_choice(first)})
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer={"response": best_choice(first)})
        # Question 2: right, then wrong.
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=2, answer={"response": best_choice(second)})
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=2, answer={"response": worst_choice(second)})
    # Question 3: unanswered.
    learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    summary = learning_selectors.mock_summary(mock=MockInterview.objects.get(id=mock.id))
    outcomes = {e.position: e.outcome for e in summary.entries}
    worst_score = Submission.objects.filter(item=second).order_by("-id").first().score
    assert outcomes[1] == learning_rules.RIGHT
    assert outcomes[2] == (learning_rules.WRONG if worst_score == 0 else learning_rules.PARTIAL)
    assert outcomes[3] == learning_rules.UNANSWERED
    assert summary.entries[0].answers == 2
    assert summary.score == pytest.approx((1.0 + worst_score) / 3)
    assert summary.pending == 0
    order = [e.position for e in summary.review_rows()]
    assert order[-1] == 1, "the right answer comes last"
    assert set(order[:2]) == {2, 3}


def test_answers_still_being_graded_are_pending_in_the_review(learner, choice_topic):
    mock = start(learner, [choice_topic.slug]).mock
    item = entry_items(mock)[0]
    # No commit callbacks run: the worker has not graded it yet.
    learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer={"response": best_choice(item)})
    learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    summary = learning_selectors.mock_summary(mock=mock)
    assert summary.pending == 1 and summary.count(learning_rules.UNANSWERED) == 2
    assert [e.outcome for e in summary.review_rows()][-1] == learning_rules.PENDING
    practice_jobs.submission_grade(submission_id=Submission.objects.get().id)
    assert learning_selectors.mock_summary(mock=mock).count(learning_rules.RIGHT) == 1


def test_numeric_questions_are_graded_by_the_engine_in_the_review(sandboxed, learner, bank,
                                                                  django_capture_on_commit_callbacks):
    """Numeric problems and code exercises alike (the masking topic has both)."""
    mock = start(learner, ["masking"], preset="quick").mock
    numeric = [(e.position, e.item) for e in mock.entries.select_related("item__variant") if e.item.is_numeric]
    assert numeric, "a third of three is one numeric question"
    position, item = numeric[0]
    with django_capture_on_commit_callbacks(execute=True):
        learning_services.mock_answer_submit(
            learner=learner, mock_id=mock.id, position=position,
            answer={"code": item.variant.data["answer"]["code"]} if item.is_code else dict(item.variant.data["answer"]),
        )
    learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    entry = next(e for e in learning_selectors.mock_summary(mock=mock).entries if e.position == position)
    assert entry.outcome == learning_rules.RIGHT and entry.score == pytest.approx(1.0)


def test_history_lists_scores_in_a_fixed_number_of_queries(
    learner, choice_topic, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(3):
        mock = start(learner, [choice_topic.slug]).mock
        item = entry_items(mock)[0]
        with django_capture_on_commit_callbacks(execute=True):
            learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer={"response": best_choice(item)})
        learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    with django_assert_max_num_queries(6):
        history = learning_selectors.mock_history(learner=learner)
        percents = [s.percent for s in history]
    assert percents == [33, 33, 33]
    assert [s.answered for s in history] == [1, 1, 1]


def test_a_mock_rates_cards_once_it_is_over_by_the_answer_that_counted(learner, choice_topic, django_capture_on_commit_callbacks):
    from questions.learning.models import ReviewCard, ReviewLog

    mock = start(learner, [choice_topic.slug]).mock
    first, second = entry_items(mock)[:2]
    with django_capture_on_commit_callbacks(execute=True):
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer={"response": worst_choice(first)})
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer={"response": best_choice(first)})
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=2, answer={"response": worst_choice(second)})
    # Graded, but no feedback was given during the interview: nothing is rated yet.
    assert not ReviewLog.objects.exists()
    learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    logs = {log.card.question_id: log for log in ReviewLog.objects.select_related("card")}
    assert set(logs) == {first.question_version.question_id, second.question_version.question_id}
    counted = Submission.objects.filter(item=first).order_by("-id").first()
    assert logs[first.question_version.question_id].submission_id == counted.id
    # The replaced wrong answer is neither a lapse nor a retry (Good or Easy, not Again or Hard).
    assert logs[first.question_version.question_id].rating in (3, 4)
    assert logs[second.question_version.question_id].rating == 1  # Again
    assert ReviewCard.objects.filter(learner=learner).count() == 2
