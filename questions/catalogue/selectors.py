"""Reads of the catalogue: topics with counts, the current version of every question."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404

from questions.catalogue.models import Question, QuestionVersion, Topic


def topics_with_counts():
    """Topics with their number of published public-bank questions, in the bank's order."""
    return Topic.objects.annotate(
        published=Count(
            "questions__versions",
            filter=Q(questions__versions__status=QuestionVersion.Status.PUBLISHED, questions__owner__isnull=True),
        )
    )


def current_versions(*, published_only: bool = True, questions: Q | None = None):
    """The newest version of every question (the newest published one with published_only), of
    the questions `questions` (a filter on `Question`) selects when given."""
    versions = QuestionVersion.objects.all()
    if questions is not None:
        versions = versions.filter(question__in=Question.objects.filter(questions))
    if published_only:
        versions = versions.filter(status=QuestionVersion.Status.PUBLISHED)
    newest = versions.filter(question=OuterRef("question")).order_by("-number").values("id")[:1]
    return (
        versions.filter(id=Subquery(newest))
        .select_related("question__topic")
        .order_by("question__topic__position", "question__slug")
    )


def question_latest(*, slug: str, questions: Q | None = None):
    """The newest version of a question, whatever its status (for its authors); 404 when it is
    not among the questions `questions` selects."""
    versions = QuestionVersion.objects.select_related("question__topic")
    if questions is not None:
        versions = versions.filter(question__in=Question.objects.filter(questions))
    version = (
        versions
        .filter(question__slug=slug)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise Http404(f"No question {slug!r}")
    return version

