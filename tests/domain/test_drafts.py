"""Drafts: what a learner typed, kept on the server (one upsert), restored, deleted on submit,
refused once the item takes no answers, and graded from when a mock interview runs out."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.test import TestCase
from django.utils import timezone

from questions.errors import AnswerFormatError, DraftRefused
from questions.learning import jobs as learning_jobs
from questions.learning import services as learning_services
from questions.learning.models import MockInterview, MockInterviewItem
from questions.practice import jobs as practice_jobs
from questions.practice import selectors as practice_selectors
from questions.practice import services as practice_services
from questions.practice.models import AnswerDraft, PracticeItem, Purpose, Submission

pytestmark = pytest.mark.django_db


def key_answer(item) -> dict:
    """The variant's right answer, every part as text (as a form sends it)."""
    return {part: str(value) for part, value in item.variant.data["answer"].items()}


def shifted(value):
    """A wrong value of the same shape: every entry plus 1."""
    return [shifted(v) for v in value] if isinstance(value, list) else float(value) + 1.0


def wrong_answer(item) -> dict:
    return {part: str(shifted(value)) for part, value in item.variant.data["answer"].items()}


def parts(item) -> list[str]:
    return [p["name"] for p in item.variant.data["parts"]]


def save(learner, item, answer):
    return practice_services.answer_draft_save(learner=learner, item=item, answer=answer)


def submit(learner, item, answer):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return practice_services.submission_create(learner=learner, item=item, answer=answer).submission


@pytest.fixture
def mock_with_numeric(learner):
    """A running mock interview of one numeric question (made directly: the test decides its item)."""
    item = practice_services.practice_item_create_numeric(
        learner=learner, kind="self_attention", difficulty="easy", purpose=Purpose.MOCK
    )
    now = timezone.now()
    mock = MockInterview.objects.create(
        learner=learner, topics=["self-attention"], question_count=1, duration_seconds=600,
        started_at=now, deadline=now + timedelta(minutes=10),
    )
    MockInterviewItem.objects.create(mock=mock, position=1, item=item)
    return mock, item


def run_out(mock) -> MockInterview:
    """The interview's time runs out now (after the drafts the test saved)."""
    MockInterview.objects.filter(id=mock.id).update(deadline=timezone.now())
    mock.refresh_from_db()
    return mock


def expire(mock) -> MockInterview:
    """The beat task's path: finish an interview past its deadline; the grading runs on commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return learning_jobs.mock_interview_expire(mock=MockInterview.objects.get(id=mock.id))


# --- Saving --------------------------------------------------------------------------------------


def test_a_draft_is_one_row_per_learner_and_item_upserted(learner, numeric_item):
    first, second = parts(numeric_item)[:2]  # self-attention asks for scores, weights and output
    kept = save(learner, numeric_item, {first: "1"})
    assert kept.pk == AnswerDraft.objects.get(learner=learner, item=numeric_item).pk
    before = AnswerDraft.objects.get(learner=learner, item=numeric_item).updated_at
    again = save(learner, numeric_item, {first: "1", second: "2"})
    drafts = list(AnswerDraft.objects.filter(learner=learner, item=numeric_item))
    assert len(drafts) == 1 and again.pk == kept.pk
    assert drafts[0].answer == {first: "1", second: "2"}
    assert drafts[0].updated_at >= before


def test_a_draft_is_deleted_when_an_answer_is_submitted(learner, numeric_item):
    save(learner, numeric_item, {parts(numeric_item)[0]: "1"})
    submit(learner, numeric_item, key_answer(numeric_item))
    assert not AnswerDraft.objects.filter(item=numeric_item).exists()


def test_an_unreadable_answer_is_not_stored_and_keeps_the_draft(learner, numeric_item):
    save(learner, numeric_item, {parts(numeric_item)[0]: "1"})
    with pytest.raises(AnswerFormatError):
        practice_services.submission_create(learner=learner, item=numeric_item, answer={p: "abc" for p in parts(numeric_item)})
    assert AnswerDraft.objects.filter(item=numeric_item).exists()


@pytest.mark.parametrize("bad", [
    ["not", "an", "object"],
    {"no_such_part": "1"},
    {"PART": "1\x002"},
    {"PART": "9" * 25_000},
])
def test_a_malformed_draft_is_refused_and_nothing_is_kept(learner, numeric_item, bad):
    if isinstance(bad, dict) and "PART" in bad:
        bad = {parts(numeric_item)[0]: bad["PART"]}
    with pytest.raises(AnswerFormatError):
        save(learner, numeric_item, bad)
    assert not AnswerDraft.objects.exists()


def test_another_learners_item_is_not_found(other_learner, numeric_item):
    with pytest.raises(Http404):
        save(other_learner, numeric_item, {parts(numeric_item)[0]: "1"})
    assert not AnswerDraft.objects.exists()


def test_a_graded_practice_item_takes_no_draft(learner, numeric_item):
    submit(learner, numeric_item, key_answer(numeric_item))
    assert numeric_item.submissions.get().status == Submission.Status.GRADED
    with pytest.raises(DraftRefused) as refused:
        save(learner, numeric_item, {parts(numeric_item)[0]: "1"})
    assert refused.value.status == 409
    assert not AnswerDraft.objects.exists()


def test_a_draft_of_a_finished_or_timed_out_interview_is_refused(learner, mock_with_numeric):
    mock, item = mock_with_numeric
    save(learner, item, {parts(item)[0]: "1"})  # running: kept
    run_out(mock)
    with pytest.raises(DraftRefused):
        save(learner, item, {parts(item)[0]: "2"})
    assert AnswerDraft.objects.get(item=item).answer == {parts(item)[0]: "1"}


# --- Restoring -----------------------------------------------------------------------------------


def test_the_draft_is_restored_until_a_newer_answer_is_submitted(learner, mock_with_numeric):
    _, item = mock_with_numeric
    assert practice_selectors.draft_to_restore(learner=learner, item=item) is None
    save(learner, item, {parts(item)[0]: "1"})
    restored = practice_selectors.draft_to_restore(learner=learner, item=item)
    assert restored is not None and restored.answer == {parts(item)[0]: "1"}
    # A submitted answer newer than the draft wins (here the draft row is kept on purpose).
    with TestCase.captureOnCommitCallbacks(execute=True):
        Submission.objects.create(item=item, learner=learner, answer=key_answer(item))
    assert practice_selectors.draft_to_restore(learner=learner, item=item) is None


# --- Time runs out -------------------------------------------------------------------------------


def test_a_timed_out_interview_grades_its_draft_exactly_once(learner, mock_with_numeric):
    mock, item = mock_with_numeric
    save(learner, item, key_answer(item))
    run_out(mock)
    expire(mock)
    expire(mock)  # the beat task again, or a late request: nothing more
    learning_jobs.mocks_close_overdue()
    submissions = list(Submission.objects.filter(item=item))
    assert len(submissions) == 1
    graded = submissions[0]
    assert graded.from_draft and graded.status == Submission.Status.GRADED and graded.score == 1.0
    assert graded.answer == key_answer(item)
    assert not AnswerDraft.objects.filter(item=item).exists()
    mock.refresh_from_db()
    assert mock.finished_at == mock.deadline


def test_a_draft_newer_than_the_saved_answer_replaces_it(learner, mock_with_numeric):
    mock, item = mock_with_numeric
    wrong = wrong_answer(item)
    with TestCase.captureOnCommitCallbacks(execute=True):
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer=wrong)
    save(learner, item, key_answer(item))  # typed after the saved answer, never sent
    run_out(mock)
    expire(mock)
    latest = Submission.objects.filter(item=item).order_by("-id").first()
    assert Submission.objects.filter(item=item).count() == 2
    assert latest.from_draft and latest.answer == key_answer(item) and latest.score == 1.0


def test_a_draft_older_than_the_saved_answer_is_not_submitted(learner, mock_with_numeric):
    mock, item = mock_with_numeric
    save(learner, item, {parts(item)[0]: "1"})
    AnswerDraft.objects.filter(item=item).update(updated_at=timezone.now() - timedelta(minutes=5))
    with TestCase.captureOnCommitCallbacks(execute=True):
        learning_services.mock_answer_submit(learner=learner, mock_id=mock.id, position=1, answer=key_answer(item))
    AnswerDraft.objects.create(learner=learner, item=item, answer={parts(item)[0]: "1"},
                               updated_at=timezone.now() - timedelta(minutes=5))
    run_out(mock)
    expire(mock)
    assert [s.from_draft for s in Submission.objects.filter(item=item)] == [False]


def test_a_timed_out_draft_with_blank_parts_grades_them_blank(learner, mock_with_numeric):
    mock, item = mock_with_numeric
    names = parts(item)
    if len(names) < 2:
        pytest.fail("the fixture's kind needs at least two parts for this test")
    typed = {names[0]: key_answer(item)[names[0]], **{name: "" for name in names[1:]}}
    save(learner, item, typed)
    run_out(mock)
    expire(mock)
    graded = Submission.objects.get(item=item)
    assert graded.from_draft and graded.status == Submission.Status.GRADED
    by_part = graded.result["parts"]
    assert by_part[names[0]]["correct"] is True
    for name in names[1:]:
        assert by_part[name]["correct"] is False and by_part[name]["message"] == "Left blank"
    assert 0 < graded.score < 1


def test_an_unreadable_draft_is_recorded_as_unreadable(learner, mock_with_numeric):
    mock, item = mock_with_numeric
    save(learner, item, {p: "not a number" for p in parts(item)})
    run_out(mock)
    expire(mock)
    recorded = Submission.objects.get(item=item)
    assert recorded.from_draft and recorded.status == Submission.Status.INVALID
    assert recorded.score is None and recorded.result["format_errors"]


def test_an_empty_draft_is_no_answer(learner, mock_with_numeric):
    mock, item = mock_with_numeric
    save(learner, item, {p: "" for p in parts(item)})
    run_out(mock)
    expire(mock)
    assert not Submission.objects.filter(item=item).exists()
    assert not AnswerDraft.objects.filter(item=item).exists()


def test_finishing_early_submits_the_unsent_drafts(learner, mock_with_numeric):
    mock, item = mock_with_numeric
    save(learner, item, key_answer(item))
    with TestCase.captureOnCommitCallbacks(execute=True):
        learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    graded = Submission.objects.get(item=item)
    assert graded.from_draft and graded.score == 1.0


def test_drafts_submit_skips_a_draft_saved_after_the_end(learner, mock_with_numeric):
    _, item = mock_with_numeric
    save(learner, item, key_answer(item))
    made = practice_jobs.drafts_submit(learner_id=learner.id, item_ids=[item.id], at=timezone.now() - timedelta(minutes=1))
    assert made == [] and AnswerDraft.objects.filter(item=item).exists()


def test_a_practice_item_is_not_touched_by_drafts_of_others(learner, other_learner, numeric_item):
    save(learner, numeric_item, {parts(numeric_item)[0]: "1"})
    made = practice_jobs.drafts_submit(learner_id=other_learner.id, item_ids=[numeric_item.id], at=timezone.now())
    assert made == [] and PracticeItem.objects.get(id=numeric_item.id).submissions.count() == 0
