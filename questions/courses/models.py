"""Courses' tables: courses and roles, quizzes and sections, attempts, slots, answers, regrade runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from questions.catalogue.models import Difficulty, Question, QuestionVersion
from questions.practice.models import PracticeItem, Submission


class Course(models.Model):
    """A class an instructor runs. Learners join it with `join_code` (see `questions.courses`)."""

    title = models.CharField(max_length=200)
    join_code = models.CharField(max_length=16, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class Membership(models.Model):
    """A user's role in a course: one role per (course, user)."""

    class Role(models.TextChoices):
        INSTRUCTOR = "instructor", "Instructor"
        TA = "ta", "Teaching assistant"
        LEARNER = "learner", "Learner"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "role", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="membership_per_course_user"),
        ]


class Quiz(models.Model):
    """A graded quiz of a course: sections of pools, a window, a time limit and its policies."""

    class GradingMethod(models.TextChoices):
        HIGHEST = "highest", "Highest attempt"
        LAST = "last", "Last attempt"
        FIRST = "first", "First attempt"
        AVERAGE = "average", "Average of attempts"

    class FeedbackTiming(models.TextChoices):
        IMMEDIATE = "immediate", "Immediately after each answer"
        AFTER_SUBMISSION = "after_submission", "After the attempt is submitted"
        AFTER_CLOSE = "after_close", "After the quiz closes"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="quizzes")
    title = models.CharField(max_length=200)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    time_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    # 0 means no limit.
    attempts_allowed = models.PositiveSmallIntegerField(default=1)
    grading_method = models.CharField(
        max_length=16, choices=GradingMethod.choices, default=GradingMethod.HIGHEST
    )
    # Fraction of the question's mark lost for each earlier wrong try (immediate feedback only).
    penalty = models.FloatField(default=0.0)
    feedback_timing = models.CharField(
        max_length=20, choices=FeedbackTiming.choices, default=FeedbackTiming.AFTER_SUBMISSION
    )
    shuffle = models.BooleanField(default=False)
    certainty_based_marking = models.BooleanField(default=False)
    state = models.CharField(max_length=8, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "opens_at", "id"]
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return self.title


class QuizSection(models.Model):
    """A pool: draw `draw_count` of the `questions` (theory), or `draw_count` variants of `kind`
    at `difficulty` (numeric). Each drawn question is one slot of the attempt, worth `points`."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=64, blank=True)
    difficulty = models.CharField(max_length=16, choices=Difficulty.choices, blank=True)
    questions = models.ManyToManyField(Question, blank=True, related_name="quiz_sections")
    # The versions the quiz was opened with: attempts draw these, whatever is published later,
    # until the owner's regrade moves the quiz to the current versions.
    pinned_versions = models.ManyToManyField(QuestionVersion, blank=True, related_name="+")
    draw_count = models.PositiveSmallIntegerField(default=1)
    points = models.FloatField(default=1.0)

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "position"], name="quiz_section_position"),
        ]

    @property
    def is_numeric(self) -> bool:
        return bool(self.kind)


class QuizAttempt(models.Model):
    """One learner's attempt. `deadline` is the server's: min(start + time limit, close time)."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"

    class SubmittedBy(models.TextChoices):
        LEARNER = "learner", "The learner"
        DEADLINE = "deadline", "The deadline"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    number = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.CharField(max_length=16, choices=SubmittedBy.choices, blank=True)
    # Sum of the slot marks (None while an answer is still being graded); regrades update
    # `score` and keep the first value in `original_score`.
    score = models.FloatField(null=True, blank=True)
    original_score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(default=0.0)
    # An instructor's or TA's try of their own quiz: never in the gradebook or the statistics.
    is_preview = models.BooleanField(default=False)

    class Meta:
        ordering = ["quiz", "learner_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "learner", "number"], name="attempt_number"),
            models.UniqueConstraint(
                fields=["quiz", "learner"],
                condition=Q(state="in_progress"),
                name="one_attempt_in_progress",
            ),
        ]
        indexes = [
            models.Index(fields=["deadline"], condition=Q(state="in_progress"), name="attempt_open"),
        ]


class AttemptSlot(models.Model):
    """One question of an attempt, as drawn for this learner: a quiz-purpose PracticeItem."""

    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="slots")
    # The slot number in the quiz (section order, then draw order): the statistics column.
    slot = models.PositiveSmallIntegerField()
    # Where the learner sees it (differs from `slot` when the quiz shuffles).
    position = models.PositiveSmallIntegerField()
    section = models.ForeignKey(QuizSection, on_delete=models.PROTECT, related_name="+")
    item = models.OneToOneField(PracticeItem, on_delete=models.PROTECT, related_name="quiz_slot")
    points = models.FloatField()
    # In marks (points-scaled, CBM applied); None until an answer is graded or the attempt ends.
    mark = models.FloatField(null=True, blank=True)
    # The mark before the first regrade that changed it; `regraded_against` names the version.
    original_mark = models.FloatField(null=True, blank=True)
    regraded_at = models.DateTimeField(null=True, blank=True)
    regraded_against = models.ForeignKey(
        QuestionVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "slot"], name="attempt_slot"),
        ]


class QuizAnswer(models.Model):
    """A try at a slot: the Submission (graded by the usual exactly-once task) plus its certainty.

    A regrade writes `regraded_score` and leaves the submission's own score as it was.
    """

    slot = models.ForeignKey(AttemptSlot, on_delete=models.CASCADE, related_name="answers")
    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="quiz_answer")
    certainty = models.PositiveSmallIntegerField(null=True, blank=True)
    regraded_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slot", "created_at", "id"]


class RegradeRun(models.Model):
    """A regrade of a quiz, applied in batches by a Celery task; `cursor` makes it resumable."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="regrades")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    # The last AttemptSlot id processed: a rerun continues after it.
    cursor = models.BigIntegerField(default=0)
    slots_total = models.PositiveIntegerField(default=0)
    slots_done = models.PositiveIntegerField(default=0)
    slots_changed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

