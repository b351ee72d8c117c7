"""Timed mock interviews: services (writes) and selectors (reads) in one small module.

The rules, enforced here and nowhere else:
- Every question is made when the interview starts, mixing theory and fresh numeric variants
  (about a third numeric where the chosen topics have problem kinds). The clock starts once
  they all exist, so a slow worker never eats the learner's time.
- One interview at a time: starting again while one is running returns the running one.
- An answer is accepted only before the deadline, under a lock on the interview row, so it
  cannot slip in after "Finish now" either. Refused answers are never stored.
- A question may be answered again until the end; the last answer before the deadline counts.
- An interview whose deadline has passed is finished at its deadline by whoever opens it next.
- Learners reach only their own interviews: a stranger's id reads as missing (404).
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone

from attention_engine import api as engine

from . import learning, services
from .models import (
    MockInterview,
    MockInterviewItem,
    PracticeItem,
    Purpose,
    QuestionVersion,
    Submission,
    Topic,
)

log = logging.getLogger(__name__)

NUMERIC_DIFFICULTY = "medium"  # the difficulty topic practice uses too


@dataclass(frozen=True)
class Preset:
    key: str
    questions: int
    minutes: int

    @property
    def seconds_per_question(self) -> int:
        return self.minutes * 60 // self.questions

    @property
    def label(self) -> str:
        return f"{self.questions} questions in {self.minutes} minutes"


PRESETS = (Preset("quick", 3, 6), Preset("short", 5, 10), Preset("standard", 10, 20))
DEFAULT_PRESET = "short"


class MockClosed(services.ServiceError):
    """The interview is over (finished or out of time): the answer was refused, not stored."""

    status = 409


# --- Selection of questions --------------------------------------------------------------------


def _kinds_for_topics(topic_slugs: list[str]) -> list[str]:
    """Problem kinds that belong to any chosen topic (the rule topic practice uses)."""
    wanted = set(topic_slugs)
    return [k["name"] for k in engine.list_kinds() if wanted & set(k["topics"])]


def _theory_candidates(*, learner, topic_slugs: list[str], rng: random.Random) -> list[QuestionVersion]:
    """Published, automatically graded questions of the topics, the learner's least recently seen
    first within each topic, dealt round-robin across topics so a mock covers every topic."""
    versions = list(
        QuestionVersion.objects.filter(
            question__topic__slug__in=topic_slugs, status=QuestionVersion.Status.PUBLISHED
        )
        .exclude(data__type="essay")  # no automatic score: nothing to review at the end
        .select_related("question__topic")
    )
    last_seen = dict(
        PracticeItem.objects.filter(learner=learner, question_version__in=versions)
        .values_list("question_version__question_id")
        .annotate(last=Max("created_at"))
    )
    by_topic: dict[str, list[tuple[Any, QuestionVersion]]] = defaultdict(list)
    for version in versions:
        seen = last_seen.get(version.question_id)
        key = (seen is not None, seen, rng.random())
        by_topic[version.question.topic.slug].append((key, version))
    queues = [sorted(queue, key=lambda pair: pair[0]) for queue in by_topic.values()]
    rng.shuffle(queues)
    dealt: list[QuestionVersion] = []
    for rank in range(max((len(q) for q in queues), default=0)):
        dealt += [queue[rank][1] for queue in queues if rank < len(queue)]
    return dealt


# --- Services ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MockStarted:
    mock: MockInterview
    created: bool


def _preset(key: str) -> Preset:
    for preset in PRESETS:
        if preset.key == key:
            return preset
    choices = ", ".join(p.label for p in PRESETS)
    if not key:
        raise services.ServiceError(f"Choose a length: {choices}.")
    raise services.ServiceError(f"Unknown length {key!r}: choose one of {choices}.")


def _topic_slugs(topic_slugs: list[str]) -> list[str]:
    slugs = list(dict.fromkeys(s for s in topic_slugs if s))
    if not slugs:
        raise services.ServiceError("Choose at least one topic.")
    known = set(Topic.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    unknown = [s for s in slugs if s not in known]
    if unknown:
        raise services.ServiceError(f"Unknown topic: {', '.join(unknown)}.")
    return slugs


def mock_interview_start(*, learner, topic_slugs: list[str], preset_key: str) -> MockStarted:
    """Make every question of a new interview, then start its clock.

    Numeric variants come from the worker's stock; when the worker cannot make one
    (ServiceUnavailable) the place goes to a theory question instead. A learner with an
    interview still running gets that one back (created=False), so a double click starts one.
    """
    preset = _preset(preset_key)
    slugs = _topic_slugs(topic_slugs)
    running = mock_active(learner=learner)
    if running is not None:
        return MockStarted(running, created=False)

    rng = random.SystemRandom()
    kinds = _kinds_for_topics(slugs)
    rng.shuffle(kinds)
    theory = _theory_candidates(learner=learner, topic_slugs=slugs, rng=rng)
    wanted_numeric = 0
    if kinds:
        wanted_numeric = min(preset.questions, max(round(preset.questions / 3), preset.questions - len(theory)))
    numeric: list[PracticeItem] = []
    for index in range(wanted_numeric):
        try:
            numeric.append(
                services.practice_item_create_numeric(
                    learner=learner,
                    kind=kinds[index % len(kinds)],
                    difficulty=NUMERIC_DIFFICULTY,
                    purpose=Purpose.MOCK,
                )
            )
        except services.ServiceUnavailable:
            # Each further try would wait for the worker again: theory fills the rest.
            log.warning("mock interview: no numeric variant available, using theory", exc_info=True)
            break
    chosen_theory = theory[: preset.questions - len(numeric)]
    count = len(numeric) + len(chosen_theory)
    if count == 0:
        raise services.ServiceUnavailable(
            "These topics have no questions that can be served right now; choose other topics."
        )

    with transaction.atomic():
        # The learner's row serialises concurrent starts (the one-at-a-time rule).
        get_user_model().objects.select_for_update().filter(pk=learner.pk).first()
        running = mock_active(learner=learner)
        if running is not None:
            PracticeItem.objects.filter(id__in=[item.id for item in numeric]).delete()
            return MockStarted(running, created=False)
        items = numeric + [
            PracticeItem.objects.create(learner=learner, question_version=version, purpose=Purpose.MOCK)
            for version in chosen_theory
        ]
        rng.shuffle(items)
        now = timezone.now()
        # Fewer questions than the preset asks (a small topic, no worker) keep its pace.
        duration = count * preset.seconds_per_question
        mock = MockInterview.objects.create(
            learner=learner,
            topics=slugs,
            question_count=count,
            duration_seconds=duration,
            started_at=now,
            deadline=now + timedelta(seconds=duration),
        )
        MockInterviewItem.objects.bulk_create(
            MockInterviewItem(mock=mock, position=position, item=item)
            for position, item in enumerate(items, start=1)
        )
    return MockStarted(mock, created=True)


def mock_answer_submit(
    *, learner, mock_id: int, position: int, answer: dict[str, Any], idempotency_key: str | None = None
) -> services.SubmissionCreated:
    """Accept an answer to one question of a running interview, or refuse it (MockClosed).

    The interview row stays locked while the answer is stored, so a concurrent finish either
    happens before (the answer is refused) or after (the answer counts). Unreadable answers are
    refused by `submission_create` (AnswerFormatError) and cost nothing.
    """
    with transaction.atomic():
        mock = get_object_or_404(MockInterview.objects.select_for_update(), id=mock_id, learner=learner)
        if is_time_up(mock):
            raise MockClosed("Time is up: answers are no longer accepted. This one was not saved.")
        if mock.finished_at is not None:
            raise MockClosed("This interview is finished: answers are no longer accepted. This one was not saved.")
        entry = get_object_or_404(
            MockInterviewItem.objects.select_related("item__variant", "item__question_version"),
            mock=mock,
            position=position,
        )
        return services.submission_create(
            learner=learner, item=entry.item, answer=answer, idempotency_key=idempotency_key
        )


def mock_interview_finish(*, learner, mock_id: int) -> MockInterview:
    """Finish now ("I am done"). Finishing a finished interview changes nothing; one past its
    deadline is finished at the deadline, not later."""
    with transaction.atomic():
        mock = get_object_or_404(MockInterview.objects.select_for_update(), id=mock_id, learner=learner)
        if mock.finished_at is None:
            mock.finished_at = min(timezone.now(), mock.deadline)
            mock.save(update_fields=["finished_at"])
            learning.mock_reviews_record(mock=mock)
    return mock


def mock_interview_expire(*, mock: MockInterview) -> MockInterview:
    """Finish an interview whose deadline has passed, at its deadline. Safe to call on every read."""
    if mock.finished_at is not None or timezone.now() < mock.deadline:
        return mock
    with transaction.atomic():
        locked = MockInterview.objects.select_for_update().get(id=mock.id)
        if locked.finished_at is None:
            locked.finished_at = locked.deadline
            locked.save(update_fields=["finished_at"])
            learning.mock_reviews_record(mock=locked)
    mock.finished_at = locked.finished_at
    return mock


# --- Selectors ---------------------------------------------------------------------------------


def mock_for_learner(*, learner, mock_id: int) -> MockInterview:
    return get_object_or_404(MockInterview, id=mock_id, learner=learner)


def mock_active(*, learner) -> MockInterview | None:
    """The learner's running interview (not finished, deadline ahead), if any."""
    return (
        MockInterview.objects.filter(learner=learner, finished_at__isnull=True, deadline__gt=timezone.now())
        .order_by("-started_at", "-id")
        .first()
    )


def seconds_left(mock: MockInterview) -> int:
    if mock.finished_at is not None:
        return 0
    return max(0, int((mock.deadline - timezone.now()).total_seconds()))


def is_time_up(mock: MockInterview) -> bool:
    """Finished by the clock rather than by the learner."""
    if mock.finished_at is not None:
        return mock.finished_at >= mock.deadline
    return timezone.now() >= mock.deadline


# The outcome of one question, as the review groups them; missed ones sort first.
RIGHT, PARTIAL, WRONG, UNREADABLE, UNANSWERED, PENDING = (
    "right", "partial", "wrong", "unreadable", "unanswered", "pending",
)
_REVIEW_ORDER = {WRONG: 0, UNANSWERED: 0, UNREADABLE: 0, PARTIAL: 1, PENDING: 2, RIGHT: 3}


@dataclass(frozen=True)
class MockEntry:
    position: int
    item: PracticeItem
    latest: Submission | None  # the answer that counts: the last one accepted
    answers: int  # how many answers were accepted for this question

    @property
    def outcome(self) -> str:
        s = self.latest
        if s is None:
            return UNANSWERED
        if s.status == Submission.Status.PENDING:
            return PENDING
        if s.status == Submission.Status.INVALID or s.score is None:
            return UNREADABLE
        if s.score >= 1:
            return RIGHT
        return PARTIAL if s.score > 0 else WRONG

    @property
    def score(self) -> float:
        s = self.latest
        return s.score if s is not None and s.status == Submission.Status.GRADED and s.score else 0.0


def _entries_query():
    return MockInterviewItem.objects.select_related(
        "item__variant", "item__question_version__question__topic"
    ).prefetch_related(
        Prefetch("item__submissions", queryset=Submission.objects.order_by("-created_at", "-id"))
    )


def _entry(row: MockInterviewItem) -> MockEntry:
    answers = list(row.item.submissions.all())
    return MockEntry(row.position, row.item, answers[0] if answers else None, len(answers))


def mock_entries(*, mock: MockInterview) -> list[MockEntry]:
    """Every question of the interview in order, with the answer that counts (for its learner)."""
    return [_entry(row) for row in _entries_query().filter(mock=mock).order_by("position")]


@dataclass(frozen=True)
class MockSummary:
    mock: MockInterview
    entries: list[MockEntry]

    def count(self, outcome: str) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)

    @property
    def answered(self) -> int:
        return sum(1 for e in self.entries if e.latest is not None)

    @property
    def pending(self) -> int:
        return self.count(PENDING)

    @property
    def score(self) -> float:
        """Points over questions asked, unanswered ones counting 0 (final once none is pending)."""
        return sum(e.score for e in self.entries) / max(1, len(self.entries))

    @property
    def percent(self) -> int:
        return round(100 * self.score)

    @property
    def finished(self) -> bool:
        return self.mock.finished_at is not None or timezone.now() >= self.mock.deadline

    @property
    def time_up(self) -> bool:
        return is_time_up(self.mock)

    def review_rows(self) -> list[MockEntry]:
        """Missed questions first (wrong, unanswered, unreadable), then partial, then the ones
        still being graded, then right; in question order within each group."""
        return sorted(self.entries, key=lambda e: (_REVIEW_ORDER[e.outcome], e.position))


def mock_summary(*, mock: MockInterview) -> MockSummary:
    return MockSummary(mock, mock_entries(mock=mock))


def mock_history(*, learner, limit: int = 20) -> list[MockSummary]:
    """The learner's interviews, newest first, with their scores (a fixed number of queries)."""
    mocks = list(
        MockInterview.objects.filter(learner=learner)
        .order_by("-started_at", "-id")[:limit]
        .prefetch_related(Prefetch("entries", queryset=_entries_query().order_by("position")))
    )
    return [MockSummary(mock, [_entry(row) for row in mock.entries.all()]) for mock in mocks]
