"""Learning's tables: review cards and logs, learner settings, mock interviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from questions.catalogue.models import Difficulty, Question
from questions.practice.models import PracticeItem


class ReviewCard(models.Model):
    """An FSRS card: one per (learner, theory question) or (learner, numeric problem kind).

    A kind's card draws a fresh variant at every review, so its answers cannot be memorised.
    `fsrs` holds `fsrs.Card.to_dict()`; `due`, `stability` and the counters are copies kept for
    queries (reviews due today, mastery per topic).
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards"
    )
    question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.CASCADE, related_name="review_cards"
    )
    kind = models.CharField(max_length=64, blank=True)
    # The difficulty a kind's review draws its variant at (the one last practised).
    difficulty = models.CharField(max_length=16, choices=Difficulty.choices, default=Difficulty.MEDIUM)
    fsrs = models.JSONField()
    due = models.DateTimeField()
    stability = models.FloatField(null=True, blank=True)
    reps = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)
    last_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(question__isnull=False) & Q(kind=""))
                | (Q(question__isnull=True) & ~Q(kind="")),
                name="card_is_question_xor_kind",
            ),
            models.UniqueConstraint(
                fields=["learner", "question"],
                condition=Q(question__isnull=False),
                name="card_per_learner_question",
            ),
            models.UniqueConstraint(
                fields=["learner", "kind"], condition=~Q(kind=""), name="card_per_learner_kind"
            ),
        ]
        indexes = [models.Index(fields=["learner", "due"], name="card_due")]


class ReviewLog(models.Model):
    """One rating given to a card. A submission rates a card at most once (the unique key)."""

    card = models.ForeignKey(ReviewCard, on_delete=models.CASCADE, related_name="logs")
    submission = models.OneToOneField(
        "Submission", on_delete=models.CASCADE, related_name="review_log"
    )
    rating = models.PositiveSmallIntegerField()
    score = models.FloatField()
    hints_used = models.PositiveSmallIntegerField(default=0)
    seconds_taken = models.FloatField(null=True, blank=True)
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["-reviewed_at", "-id"]


class LearnerProfile(models.Model):
    """A learner's own settings, and their placement.

    The placement is the short first quiz that finds each topic's starting difficulty:
    `placement_items` lists its questions in order (``{"item": id, "topic": slug}``, at most
    `rules.PLACEMENT_MAX_ITEMS`); it is open until `placement_finished_at`. The starting
    difficulties are read from its graded answers (`selectors.topic_start_difficulties`), so an
    answer graded after the learner moved on still counts. `placement_skipped_at`: the learner
    said "Skip" and is not offered it again (the home still links to it).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner_profile"
    )
    show_streak = models.BooleanField(default=True)
    placement_items = models.JSONField(default=list, blank=True)
    placement_started_at = models.DateTimeField(null=True, blank=True)
    placement_finished_at = models.DateTimeField(null=True, blank=True)
    placement_skipped_at = models.DateTimeField(null=True, blank=True)


class MockInterview(models.Model):
    """A timed set of questions. The deadline is the server's: answers after it are refused and
    the interview is finished when it passes, whatever the client does."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mock_interviews"
    )
    topics = models.JSONField(default=list)
    question_count = models.PositiveSmallIntegerField()
    duration_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class MockInterviewItem(models.Model):
    mock = models.ForeignKey(MockInterview, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveSmallIntegerField()
    item = models.OneToOneField(PracticeItem, on_delete=models.CASCADE, related_name="mock_entry")

    class Meta:
        ordering = ["mock", "position"]
        constraints = [
            models.UniqueConstraint(fields=["mock", "position"], name="mock_item_position"),
        ]

