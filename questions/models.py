"""The domain: theory questions (versioned), engine-made numeric variants, items and submissions.

Writes go through `questions.services`, reads through `questions.selectors`; models hold fields,
constraints and trivial properties only.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


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
    """A theory question's stable identity; its content lives in versions."""

    slug = models.SlugField(max_length=120, unique=True)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="questions")
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
        return self.variant_id is not None


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


# --- Spaced repetition, learner settings, mock interviews --------------------------------------


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
    """A learner's own settings."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner_profile"
    )
    show_streak = models.BooleanField(default=True)


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


# --- Courses and quizzes -----------------------------------------------------------------------


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
