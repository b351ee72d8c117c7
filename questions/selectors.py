"""Reads. Learners reach only their own rows: a stranger's id reads as missing (404)."""

from django.shortcuts import get_object_or_404

from .models import PracticeItem, Purpose, Submission

# Items the practice pages and the practice API may show. Mock-interview and quiz items have
# their own pages, which decide when feedback and keys may be seen.
PRACTICE_PAGE_PURPOSES = (Purpose.PRACTICE, Purpose.REVIEW)


def topics_with_counts():
    """Topics with their number of published questions, in the bank's order."""
    from django.db.models import Count, Q

    from .models import QuestionVersion, Topic

    return Topic.objects.annotate(
        published=Count(
            "questions__versions",
            filter=Q(questions__versions__status=QuestionVersion.Status.PUBLISHED),
        )
    )


def practice_item_for_learner(*, learner, item_id: int) -> PracticeItem:
    return get_object_or_404(
        PracticeItem.objects.select_related("variant", "question_version__question__topic"),
        id=item_id,
        learner=learner,
        purpose__in=PRACTICE_PAGE_PURPOSES,
    )


def submission_for_learner(*, learner, submission_id: int) -> Submission:
    return get_object_or_404(
        Submission.objects.select_related("item__variant", "item__question_version"),
        id=submission_id,
        learner=learner,
        item__purpose__in=PRACTICE_PAGE_PURPOSES,
    )


def current_versions(*, published_only: bool = True):
    """The newest version of every question (the newest published one with published_only)."""
    from django.db.models import OuterRef, Subquery

    from .models import QuestionVersion

    versions = QuestionVersion.objects.all()
    if published_only:
        versions = versions.filter(status=QuestionVersion.Status.PUBLISHED)
    newest = versions.filter(question=OuterRef("question")).order_by("-number").values("id")[:1]
    return (
        versions.filter(id=Subquery(newest))
        .select_related("question__topic")
        .order_by("question__topic__position", "question__slug")
    )


def question_latest(*, slug: str):
    """The newest version of a question, whatever its status (for its authors)."""
    from django.http import Http404

    from .models import QuestionVersion

    version = (
        QuestionVersion.objects.select_related("question__topic")
        .filter(question__slug=slug)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise Http404(f"No question {slug!r}")
    return version
