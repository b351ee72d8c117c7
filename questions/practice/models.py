"""Practice's tables: verified variants (with their keys), items given to learners, submissions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from attention_engine.api import is_code_kind
from attention_engine.code import CODE_KINDS
from questions.catalogue.models import Difficulty, QuestionVersion

# The kinds answered with code (their variants are `Variant.is_code`), for queries.
CODE_KIND_NAMES = tuple(CODE_KINDS)


class Variant(models.Model):
    """A verified numeric problem made by the engine. `data` holds the key: never send it as is."""

    kind = models.CharField(max_length=64)
    difficulty = models.CharField(max_length=16, choices=Difficulty.choices)
    seed = models.BigIntegerField()
    engine_version = models.CharField(max_length=32)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Null while the variant waits in stock; set once, when a learner is given it.
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "difficulty", "seed", "engine_version"], name="variant_identity"
            ),
        ]
        indexes = [
            models.Index(
                fields=["kind", "difficulty", "engine_version"],
                condition=Q(claimed_at__isnull=True),
                name="variant_stock",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.difficulty}#{self.seed}"

    @property
    def is_code(self) -> bool:
        """Answered with code, which only the code worker runs, in a sandbox."""
        return is_code_kind(self.kind)


class Purpose(models.TextChoices):
    """Why an item was put in front of a learner; it decides which pages may show it."""

    PRACTICE = "practice", "Practice"
    REVIEW = "review", "Spaced-repetition review"
    MOCK = "mock", "Mock interview"
    QUIZ = "quiz", "Graded quiz"


class PracticeItem(models.Model):
    """One question put in front of one learner: a theory question version or a numeric variant."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_items"
    )
    question_version = models.ForeignKey(
        QuestionVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    variant = models.OneToOneField(
        Variant, null=True, blank=True, on_delete=models.PROTECT, related_name="item"
    )
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.PRACTICE)
    # How many rungs of the hint ladder the learner has opened (never a wrong answer; it lowers
    # the review rating).
    hints_revealed = models.PositiveSmallIntegerField(default=0)
    # When the learner asked for a theory question's answer before using their tries (practice).
    key_shown_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(variant__isnull=False) & Q(question_version__isnull=True))
                | (Q(variant__isnull=True) & Q(question_version__isnull=False)),
                name="item_is_variant_xor_question",
            ),
        ]

    @property
    def is_numeric(self) -> bool:
        """A problem made by the engine (a variant): numeric, or answered with code (`is_code`)."""
        return self.variant_id is not None

    @property
    def is_code(self) -> bool:
        return self.variant_id is not None and self.variant.is_code


class Submission(models.Model):
    """A learner's answer. Accepted once; graded exactly once (the grading service is idempotent)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        GRADED = "graded", "Graded"
        # The answer could not be read (wrong shape, text in a cell): it costs no attempt.
        INVALID = "invalid", "Invalid"

    item = models.ForeignKey(PracticeItem, on_delete=models.CASCADE, related_name="submissions")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    answer = models.JSONField()
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Made from the learner's unsent draft when the quiz or mock interview ended (time ran out,
    # or Submit/Finish with answers typed but not sent): the review says so.
    from_draft = models.BooleanField(default=False)
    score = models.FloatField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    enqueue_count = models.PositiveIntegerField(default=0)
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="submission_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(
                fields=["enqueued_at"], condition=Q(status="pending"), name="submission_pending"
            ),
        ]



class AnswerDraft(models.Model):
    """What a learner has typed for an item and not yet submitted; one per learner and item.

    Saved while typing (one upsert, no grading); restored when the item is shown again; deleted
    when an answer is submitted; graded in place of a missing answer when a quiz or mock runs out.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answer_drafts"
    )
    item = models.ForeignKey(PracticeItem, on_delete=models.CASCADE, related_name="drafts")
    # The answer dict as `answer_from_post` builds it (the API sends the same shape).
    answer = models.JSONField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "item"], name="answer_draft_one_per_item"),
        ]

    def __str__(self) -> str:
        return f"draft of item {self.item_id} by {self.learner_id}"
