"""Practice's writes from the web: give a learner an item, accept a submission.

Every function is keyword-only, runs in a transaction and is safe to repeat; work for the worker
is enqueued through `questions.practice.tasks` after commit."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from attention_engine import ENGINE_VERSION
from questions.catalogue.models import Difficulty, QuestionVersion, Topic
from questions.catalogue.visibility import practisable
from questions.errors import AnswerFormatError, DraftRefused, ServiceError, ServiceUnavailable
from questions.practice.models import AnswerDraft, PracticeItem, Purpose, Submission, Variant
from questions.practice.rules import (
    check_kind,
    code_format_errors,
    draft_shape_errors,
    item_format_errors,
    kinds_for_topics,
)
from questions.practice.selectors import key_due
from questions.practice.tasks import (
    code_examples_result,
    enqueue_grading,
    enqueue_refill,
    generate_variants,
    worker_result,
)


def _claim_from_stock(*, kind: str, difficulty: str) -> Variant | None:
    for _ in range(5):
        candidate = (
            Variant.objects.select_for_update(skip_locked=True)
            .filter(
                kind=kind,
                difficulty=difficulty,
                engine_version=ENGINE_VERSION,
                claimed_at__isnull=True,
            )
            .order_by("id")
            .first()
        )
        if candidate is None:
            return None
        # The conditional update makes the claim safe on SQLite too, where FOR UPDATE is a no-op.
        now = timezone.now()
        if Variant.objects.filter(id=candidate.id, claimed_at__isnull=True).update(claimed_at=now):
            candidate.claimed_at = now
            return candidate
    return None


def practice_item_create_numeric(
    *, learner, kind: str, difficulty: str, purpose: str = Purpose.PRACTICE
) -> PracticeItem:
    """Give the learner a fresh verified variant, from stock, or made on demand when it is empty."""
    check_kind(kind, difficulty)
    with transaction.atomic():
        variant = _claim_from_stock(kind=kind, difficulty=difficulty)
    if variant is None:
        worker_result(
            generate_variants,
            kind=kind,
            difficulty=difficulty,
            count=1,
            unavailable="No problem of this kind is ready and the worker did not answer in time. "
            "Please try again in a moment.",
        )
        with transaction.atomic():
            variant = _claim_from_stock(kind=kind, difficulty=difficulty)
        if variant is None:
            raise ServiceUnavailable("Every fresh problem was just taken by other learners; try again.")
    with transaction.atomic():
        item = PracticeItem.objects.create(learner=learner, variant=variant, purpose=purpose)
        transaction.on_commit(lambda: enqueue_refill(kind=kind, difficulty=difficulty))
    return item


_LEVELS = [value for value, _ in Difficulty.choices]  # easiest first


def _level_rank(level: str | None, target: str) -> int:
    """How well a theory question's difficulty fits the target: the target itself, then easier
    ones (nearest first), then harder ones, so a learner at easy meets a hard question last."""
    if level not in _LEVELS:
        return len(_LEVELS)
    step = _LEVELS.index(level) - _LEVELS.index(target)
    return -step if step <= 0 else len(_LEVELS) + step


def practice_item_create_for_topic(
    *, learner, topic_slug: str, purpose: str = Purpose.PRACTICE, difficulty: str = Difficulty.EASY
) -> PracticeItem:
    """The next item of a topic at `difficulty`: theory questions and numeric problems interleaved.

    Theory questions come least-recently-seen first (never seen before seen), so a run through a
    topic meets every question before repeating one; among those, the ones at `difficulty` first,
    then easier, then harder. Every second item is a fresh numeric variant at `difficulty` when
    the topic has problem kinds. The learner's starting difficulty for the topic (their
    placement's) is learning's to pass (`learning.services.practice_item_create_at_level`);
    without one a topic starts easy, never hard.
    """
    if difficulty not in _LEVELS:
        raise ServiceError(f"Unknown difficulty {difficulty!r}: use one of {', '.join(_LEVELS)}.")
    topic = Topic.objects.filter(slug=topic_slug).first()
    kinds = kinds_for_topics([topic_slug])
    if topic is None and not kinds:
        raise ServiceError(f"Unknown topic {topic_slug!r}.")
    versions = (
        QuestionVersion.objects.filter(
            practisable(learner=learner, prefix="question__"),
            question__topic=topic,
            status=QuestionVersion.Status.PUBLISHED,
        ).exclude(data__type="essay")
        if topic
        else QuestionVersion.objects.none()
    )
    seen = PracticeItem.objects.filter(learner=learner)
    in_topic = seen.filter(question_version__question__topic=topic).count() if topic else 0
    numeric_in_topic = seen.filter(variant__kind__in=kinds).count()
    if kinds and (not versions.exists() or numeric_in_topic < in_topic):
        kind = kinds[numeric_in_topic % len(kinds)]
        return practice_item_create_numeric(
            learner=learner, kind=kind, difficulty=difficulty, purpose=purpose
        )
    if not versions.exists():
        raise ServiceError(f"The topic {topic.title!r} has no published questions to practise yet.")
    last_seen = {
        qid: when
        for qid, when in seen.filter(question_version__in=versions)
        .values_list("question_version__question_id")
        .annotate(last=Max("created_at"))
    }
    choice = min(
        versions.select_related("question"),
        key=lambda v: (v.question_id in last_seen, last_seen.get(v.question_id),
                       _level_rank(v.data.get("difficulty"), difficulty), secrets.randbelow(1000)),
    )
    return PracticeItem.objects.create(learner=learner, question_version=choice, purpose=purpose)


@dataclass(frozen=True)
class SubmissionCreated:
    submission: Submission
    created: bool


def submission_create(
    *, learner, item: PracticeItem, answer: dict[str, Any], idempotency_key: str | None = None
) -> SubmissionCreated:
    """Accept an answer: store it pending and have the worker grade it after commit.

    The same idempotency key twice returns the first submission and enqueues nothing new.
    Unreadable answers are refused here with per-cell messages and never stored.
    """
    if item.learner_id != learner.id:
        raise ServiceError("This item belongs to another learner.")
    if idempotency_key:
        existing = Submission.objects.filter(learner=learner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replayed(existing, item=item)
    errors = item_format_errors(item, answer)
    if errors:
        raise AnswerFormatError("The answer could not be read; nothing was counted.", details=errors)
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                item=item,
                learner=learner,
                answer=answer,
                idempotency_key=idempotency_key or None,
                enqueued_at=timezone.now(),
                enqueue_count=1,
            )
            # What was typed is now sent: its draft is done (`answer_draft_save`).
            AnswerDraft.objects.filter(learner=learner, item=item).delete()
            code = item.is_code
            transaction.on_commit(lambda: enqueue_grading(submission.id, code=code))
    except IntegrityError:
        # A concurrent request with the same idempotency key won the race.
        existing = Submission.objects.get(learner=learner, idempotency_key=idempotency_key)
        return _replayed(existing, item=item)
    return SubmissionCreated(submission, created=True)


def _replayed(existing: Submission, *, item: PracticeItem) -> SubmissionCreated:
    """A replay returns the first submission, only for the same item: another item's (a quiz or
    mock answer's) result must not come back through this one, nor its answer count as this."""
    if existing.item_id != item.id:
        raise ServiceError("This Idempotency-Key was already used for another answer.")
    return SubmissionCreated(existing, created=False)


def practice_key_show(*, learner, item: PracticeItem) -> PracticeItem:
    """The learner asks for a practice theory question's answer before using their tries: it is
    shown from now on (recorded once; asking twice changes nothing)."""
    if item.learner_id != learner.id:
        raise ServiceError("This item belongs to another learner.")
    if item.is_numeric or item.purpose not in (Purpose.PRACTICE, Purpose.REVIEW):
        raise ServiceError("Only a practice theory question's answer can be asked for.")
    PracticeItem.objects.filter(id=item.id, key_shown_at__isnull=True).update(key_shown_at=timezone.now())
    item.refresh_from_db(fields=["key_shown_at"])
    return item


def code_examples_run(*, learner, item: PracticeItem, answer: dict[str, Any]) -> dict[str, Any]:
    """Run the learner's code on the item's visible examples, in a sandbox on the code worker, and
    give the per-example results (nothing is stored or counted: it is not an answer).

    The request waits for the worker at most CODE_RUN_WAIT_SECONDS; later it answers
    `Preparing` (202) and the client sends the same code again, which waits for the same run
    (`tasks.code_examples_result`)."""
    if item.learner_id != learner.id:
        raise ServiceError("This item belongs to another learner.")
    if not item.is_code:
        raise ServiceError("Only code exercises have examples to run.")
    errors = code_format_errors(answer=answer)
    if errors:
        raise AnswerFormatError("The code could not be run.", details=errors)
    return code_examples_result(item_id=item.id, code=answer["code"])


# Whether an item of a purpose still takes answers, for its drafts: a function of the item (and
# now) that returns the refusal to give, or None. Quizzes and mock interviews register theirs
# (`questions.courses.services`, `questions.learning.services`); practice's is below.
DraftCheck = Callable[[PracticeItem, datetime], str | None]
_DRAFT_CHECKS: dict[str, DraftCheck] = {}


def drafts_checked_by(*purposes: str) -> Callable[[DraftCheck], DraftCheck]:
    """Decorator: `check(item, now)` says why a draft of an item of these purposes is refused."""
    def register(check: DraftCheck) -> DraftCheck:
        for purpose in purposes:
            _DRAFT_CHECKS[purpose] = check
        return check
    return register


@drafts_checked_by(Purpose.PRACTICE, Purpose.REVIEW)
def _practice_draft_refusal(item: PracticeItem, now: datetime) -> str | None:
    graded = item.submissions.filter(status=Submission.Status.GRADED).exists()
    if graded and key_due(item):
        return "This question is already graded: nothing more is kept for it."
    return None


def answer_draft_save(*, learner, item: PracticeItem, answer: Any) -> AnswerDraft:
    """Keep what the learner has typed so far for an item (one row per learner and item, written
    with one upsert; nothing is graded). Refused: another learner's item (404), a malformed
    draft (`AnswerFormatError`, 400), an item that takes no more answers (`DraftRefused`, 409).

    The draft is restored when the item is shown again, deleted when an answer is submitted
    (`submission_create`), and submitted itself if a quiz or mock interview ends first
    (`jobs.drafts_submit`)."""
    if item.learner_id != learner.id:
        raise Http404("No such item.")
    errors = draft_shape_errors(item, answer)
    if errors:
        raise AnswerFormatError("The draft could not be kept: it is not an answer to this question.", details=errors)
    check = _DRAFT_CHECKS.get(item.purpose)
    if check is None:
        raise ImproperlyConfigured(f"no draft check for {item.purpose!r} items: its feature's services register one")
    now = timezone.now()
    with transaction.atomic():
        refusal = check(item, now)  # may lock the attempt or interview row until the draft is stored
        if refusal:
            raise DraftRefused(refusal)
        [draft] = AnswerDraft.objects.bulk_create(
            [AnswerDraft(learner=learner, item=item, answer=answer, updated_at=now)],
            update_conflicts=True,
            unique_fields=["learner", "item"],
            update_fields=["answer", "updated_at"],
        )
    return draft
