"""Reads of practice. Learners reach only their own rows: a stranger's id reads as missing (404)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Max
from django.shortcuts import get_object_or_404

from attention_engine import ENGINE_VERSION
from questions.catalogue.visibility import require_practisable
from questions.practice.models import (
    CODE_KIND_NAMES,
    AnswerDraft,
    PracticeItem,
    Purpose,
    Submission,
    Variant,
)
from questions.practice.notify import wait_graded
from questions.practice.rules import practice_key_due

# Items the practice pages and the practice API may show. Mock-interview and quiz items have
# their own pages, which decide when feedback and keys may be seen.
PRACTICE_PAGE_PURPOSES = (Purpose.PRACTICE, Purpose.REVIEW)


def _question(item: PracticeItem):
    return item.question_version.question if item.question_version_id else None


def practice_item_for_learner(*, learner, item_id: int) -> PracticeItem:
    """The learner's practice or review item; 403 while its question is withheld for a quiz
    (`questions.catalogue.visibility`), even if it was served before the quiz opened."""
    item = get_object_or_404(
        PracticeItem.objects.select_related("variant", "question_version__question__topic"),
        id=item_id,
        learner=learner,
        purpose__in=PRACTICE_PAGE_PURPOSES,
    )
    require_practisable(learner=learner, question=_question(item))
    return item


def draft_item_for_learner(*, learner, item_id: int) -> PracticeItem:
    """The learner's own item of any purpose, to keep a draft of what they type in it (practice,
    review, mock interview or quiz: the form is on the page already); 403 while a practice item's
    question is withheld; another learner's item is a 404."""
    item = get_object_or_404(PracticeItem.objects.select_related("variant", "question_version"),
                             id=item_id, learner=learner)
    if item.purpose in PRACTICE_PAGE_PURPOSES:
        require_practisable(learner=learner, question=_question(item))
    return item


def code_item_for_learner(*, learner, item_id: int) -> PracticeItem:
    """The learner's own code exercise, for "Run examples", whatever page shows it (practice,
    review, mock interview or quiz: the examples are on the page already); 403 while a practice
    item's question is withheld; 404 for another learner's item or one that is not code."""
    item = get_object_or_404(PracticeItem.objects.select_related("variant"), id=item_id, learner=learner,
                             variant__kind__in=CODE_KIND_NAMES)
    if item.purpose in PRACTICE_PAGE_PURPOSES:
        require_practisable(learner=learner, question=_question(item))
    return item


def submission_for_learner(*, learner, submission_id: int, wait: float = 0) -> Submission:
    """The learner's practice or review submission; 403 while its question is withheld. With
    `wait`, a pending one is read again as soon as it is graded, or after `wait` seconds at most
    (`questions.practice.notify`: a long poll)."""
    if wait:
        submission = submission_for_learner(learner=learner, submission_id=submission_id)
        pending = Submission.objects.filter(id=submission.id, status=Submission.Status.PENDING)
        wait_graded(submission.id, pending.exists, seconds=wait)
    submission = get_object_or_404(
        Submission.objects.select_related("item__variant", "item__question_version__question"),
        id=submission_id,
        learner=learner,
        item__purpose__in=PRACTICE_PAGE_PURPOSES,
    )
    require_practisable(learner=learner, question=_question(submission.item))
    return submission


def key_due(item: PracticeItem) -> bool:
    """Whether the item's key may be shown with its result now (`rules.practice_key_due`);
    always for a problem made by the engine (its worked solution comes with the grade)."""
    if item.is_numeric:
        return True
    scores = list(item.submissions.filter(status=Submission.Status.GRADED).values_list("score", flat=True))
    return practice_key_due(purpose=item.purpose, scores=scores, key_shown=item.key_shown_at is not None)


def stock_missing(*, kind: str, difficulty: str) -> int:
    """How many variants the stock of (kind, difficulty) lacks to reach its target."""
    in_stock = Variant.objects.filter(
        kind=kind, difficulty=difficulty, engine_version=ENGINE_VERSION, claimed_at__isnull=True
    ).count()
    return max(0, settings.VARIANT_STOCK_TARGET - in_stock)



def items_with_unsent_drafts(*, learner, item_ids: list[int]) -> set[int]:
    """Which of these items have a draft newer than their last answer: typed, not sent (what
    ending the quiz attempt or mock interview now submits, `jobs.drafts_submit`)."""
    drafts = dict(AnswerDraft.objects.filter(learner=learner, item_id__in=item_ids).values_list("item_id", "updated_at"))
    last = dict(
        Submission.objects.filter(item_id__in=list(drafts)).values("item_id").annotate(at=Max("created_at"))
        .values_list("item_id", "at")
    )
    return {item_id for item_id, at in drafts.items() if item_id not in last or last[item_id] < at}


def draft_to_restore(*, learner, item: PracticeItem) -> AnswerDraft | None:
    """The learner's draft of the item, to fill the form again (a reload, another device); None
    when there is none or an answer submitted since is newer (the submitted answer wins)."""
    draft = AnswerDraft.objects.filter(learner=learner, item=item).first()
    if draft is None or Submission.objects.filter(item=item, created_at__gte=draft.updated_at).exists():
        return None
    return draft
