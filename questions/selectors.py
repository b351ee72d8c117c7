"""Reads. Learners reach only their own rows: a stranger's id reads as missing (404)."""

from django.shortcuts import get_object_or_404

from .models import PracticeItem, Submission


def practice_item_for_learner(*, learner, item_id: int) -> PracticeItem:
    return get_object_or_404(
        PracticeItem.objects.select_related("variant", "question_version__question"),
        id=item_id,
        learner=learner,
    )


def submission_for_learner(*, learner, submission_id: int) -> Submission:
    return get_object_or_404(
        Submission.objects.select_related("item__variant"), id=submission_id, learner=learner
    )


def latest_submission(*, item: PracticeItem) -> Submission | None:
    return item.submissions.order_by("-created_at", "-id").first()
