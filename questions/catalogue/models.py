"""The catalogue's tables: topics, questions (stable slugs) and their versions (immutable once published)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Difficulty(models.TextChoices):
    EASY = "easy", "Easy"
    MEDIUM = "medium", "Medium"
    HARD = "hard", "Hard"


class Topic(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """A theory question's stable identity; its content lives in versions.

    `owner` is the course whose instructors edit it and whose quizzes alone may draw it; a
    question without an owner is in the public bank (practice, reviews, mock interviews, any
    course's quizzes), edited by site staff only. Learners never see the slug (it may spell the
    answer): they get the item's number.
    """

    slug = models.SlugField(max_length=120, unique=True)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="questions")
    # A string reference: the catalogue sits below courses and never imports them.
    owner = models.ForeignKey(
        "questions.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="owned_questions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class QuestionVersion(models.Model):
    """One immutable content of a question. Editing a published question makes a new version;
    a graded submission keeps pointing at the version it was graded against."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # The neutral question dict of questions/bank/FORMAT.md.
    data = models.JSONField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["question", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["question", "number"], name="question_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.question.slug} v{self.number}"

