"""Learning's writes run by the worker and beat: rating review cards (grading's hook, in the grading
transaction) and finishing mock interviews past their deadline (the one place that applies it)."""

from __future__ import annotations

import logging
from datetime import datetime

from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, transaction
from django.utils import timezone

from questions.learning.models import (
    MockInterview,
    MockInterviewItem,
    ReviewCard,
    ReviewLog,
)
from questions.learning.rules import (
    RATED_PURPOSES,
    RIGHT_SCORE,
    SCHEDULER,
    card_subject,
    expected_seconds,
    rating_for,
)
from questions.learning.spacing import fsrs
from questions.practice import dispatch
from questions.practice.jobs import drafts_submit
from questions.practice.models import PracticeItem, Purpose, Submission

log = logging.getLogger(__name__)


def _card_for_update(*, learner_id: int, item: PracticeItem, now: datetime) -> ReviewCard:
    subject = card_subject(item)
    card = ReviewCard.objects.select_for_update().filter(learner_id=learner_id, **subject).first()
    if card is not None:
        return card
    try:
        with transaction.atomic():
            return ReviewCard.objects.create(
                learner_id=learner_id,
                fsrs=fsrs.Card(card_id=0, due=now).to_dict(),
                due=now,
                **subject,
            )
    except IntegrityError:  # a concurrent grading made the card first
        return ReviewCard.objects.select_for_update().get(learner_id=learner_id, **subject)


@dispatch.on_graded(*RATED_PURPOSES)
def review_graded(submission: Submission) -> None:
    """Grading's hook (`questions.practice.dispatch`) for practice, review and mock items."""
    review_record(submission=submission)


def review_record(*, submission: Submission) -> ReviewLog | None:
    """Rate the learner's card for a graded submission; at most once per submission.

    Called by `submission_grade` (through `review_graded`) inside its transaction, right after the grade is
    saved, so the rating commits with the grade or not at all. A failure of the rating is logged
    and leaves the grade intact; the task's soft time limit is not swallowed (both roll back). Returns the log, or None when the answer rates nothing.
    """
    if submission.status != Submission.Status.GRADED or submission.score is None:
        return None
    if submission.item.purpose not in RATED_PURPOSES:
        return None
    if submission.item.purpose == Purpose.MOCK and not _counts_in_finished_mock(submission):
        return None
    try:
        with transaction.atomic():
            return _review_record(submission)
    except SoftTimeLimitExceeded:
        # The task's time is up (a stalled worker resumed, a long lock wait): the grade must not
        # commit without its rating. Raising rolls both back; the sweep grades it again, once.
        raise
    except Exception:
        log.exception("could not rate the review card of submission %s", submission.id)
        return None


def _counts_in_finished_mock(submission: Submission) -> bool:
    """A mock interview's answer rates a card once the interview is over, and only the answer
    that counted (the learner's last): answers replaced during the interview got no feedback,
    so they are neither a lapse nor a retry."""
    entry = MockInterviewItem.objects.select_related("mock").filter(item_id=submission.item_id).first()
    if entry is None:
        return False
    mock = entry.mock
    if mock.finished_at is None and timezone.now() < mock.deadline:
        return False
    latest = Submission.objects.filter(item_id=submission.item_id).order_by("-id").values_list("id", flat=True).first()
    return latest == submission.id


def mock_reviews_record(*, mock) -> list[ReviewLog]:
    """Rate the cards of a finished mock interview's answers that are already graded (the ones
    graded later are rated by the grading hook). Safe to repeat: a submission rates once."""
    logs = []
    for entry in MockInterviewItem.objects.filter(mock=mock).select_related("item"):
        latest = Submission.objects.filter(item=entry.item).select_related("item").order_by("-id").first()
        if latest is not None and (log_entry := review_record(submission=latest)) is not None:
            logs.append(log_entry)
    return logs


def _review_record(submission: Submission) -> ReviewLog | None:
    existing = ReviewLog.objects.filter(submission=submission).first()
    if existing is not None:
        return existing
    item = submission.item
    # In a mock interview, answers the learner replaced were never shown a result: no retries.
    earlier = [] if item.purpose == Purpose.MOCK else list(
        Submission.objects.filter(item=item, status=Submission.Status.GRADED, id__lt=submission.id)
        .exclude(score=None)
        .values_list("score", flat=True)
    )
    if any(score >= RIGHT_SCORE for score in earlier):
        return None
    now = timezone.now()
    seconds_taken = max(0.0, (submission.created_at - item.created_at).total_seconds())
    rating = rating_for(
        score=submission.score,
        hints_used=item.hints_revealed,
        retry=bool(earlier),
        seconds_taken=seconds_taken,
        expected=expected_seconds(item),
    )
    card = _card_for_update(learner_id=submission.learner_id, item=item, now=now)
    before = fsrs.Card.from_dict(card.fsrs)
    after, _ = SCHEDULER.review_card(before, rating, review_datetime=now)
    card.fsrs = after.to_dict()
    card.due = after.due
    card.stability = after.stability
    card.reps += 1
    if rating == fsrs.Rating.Again and before.state == fsrs.State.Review:
        card.lapses += 1  # FSRS's lapse: forgetting a card that had graduated to review
    card.last_rating = int(rating)
    card.last_reviewed_at = now
    if item.is_numeric:
        card.difficulty = item.variant.difficulty
    card.save()
    return ReviewLog.objects.create(
        card=card,
        submission=submission,
        rating=int(rating),
        score=submission.score,
        hints_used=item.hints_revealed,
        seconds_taken=seconds_taken,
        reviewed_at=now,
    )


def mock_finish_locked(mock: MockInterview, *, at) -> None:
    """Store the interview finished at `at` and rate its cards, once (the row is locked). Each
    question's draft newer than its last answer is submitted as its answer first, and graded
    (`practice.jobs.drafts_submit`; its card is rated by the grading hook)."""
    if mock.finished_at is None:
        drafts_submit(
            learner_id=mock.learner_id,
            item_ids=list(MockInterviewItem.objects.filter(mock=mock).values_list("item_id", flat=True)),
            at=at,
        )
        mock.finished_at = at
        mock.save(update_fields=["finished_at"])
        mock_reviews_record(mock=mock)


def mock_interview_expire(*, mock: MockInterview) -> MockInterview:
    """Store an interview whose deadline has passed as finished at its deadline (beat, writes);
    reads show it so without this (`selectors.mock_as_of`)."""
    if timezone.now() < mock.deadline:
        return mock
    with transaction.atomic():
        locked = MockInterview.objects.select_for_update().get(id=mock.id)
        mock_finish_locked(locked, at=locked.deadline)
    mock.finished_at = locked.finished_at
    return mock


def mocks_close_overdue(*, limit: int = 500) -> list[int]:
    """Finish every interview past its deadline, at it (the beat task). Returns their ids."""
    ids = list(
        MockInterview.objects.filter(finished_at__isnull=True, deadline__lte=timezone.now())
        .order_by("deadline")
        .values_list("id", flat=True)[:limit]
    )
    for mock in MockInterview.objects.filter(id__in=ids):
        mock_interview_expire(mock=mock)
    return ids
    with transaction.atomic():
        locked = MockInterview.objects.select_for_update().get(id=mock.id)
        if locked.finished_at is None:
            locked.finished_at = locked.deadline
            locked.save(update_fields=["finished_at"])
            mock_reviews_record(mock=locked)
    mock.finished_at = locked.finished_at
    return mock
