"""The learner's side of practice: spaced repetition, the hint ladder, mastery, streaks, runs.

Writes are keyword-only `<entity>_<action>` services that run in transactions and are safe to
repeat; reads are plain selectors. Views and tasks call these and render what they return.

How reviews work (the same rules are shown to learners on the home page):

* A card is kept per (learner, theory question) and per (learner, numeric problem kind). It is
  created the first time such an item is graded, and rated by every graded answer to an item
  whose purpose is practice or review. A mock interview rates once it is over, by the answer
  that counted for each question (the last one). Quiz items, answers that could not be read and
  essays (no automatic score) never rate a card.
* The grade sets the FSRS rating (`rating_for`):

  - score < 0.5 -> Again (wrong);
  - 0.5 <= score < 1 -> Hard (partly right);
  - score 1 (right) with a hint opened, or after an earlier graded answer to the same item
    that was not right (a retry) -> Hard;
  - right at the first answer, no hint, within the item's expected time -> Easy;
  - any other right answer -> Good.

  Once an item has been answered right, later answers to the same item rate nothing: the
  learner has seen the solution, so repeating it would only measure memory of this item.
* "Fast" means within `expected_seconds(item)`: for theory questions a time per question type
  (20 s for true/false up to 60 s for matching, ordering and typed answers); for numeric
  problems 30 s to read, 45 s per part and 15 s per number to type (a 2x2 matrix is 4
  numbers). The time taken is from the moment the item was given to the moment the answer was
  submitted.
* Reviews due are the cards whose FSRS due time has passed. A question's review shows its
  current published version; a kind's review draws a fresh variant at the card's difficulty
  (the one last practised), so its answers cannot be memorised.
"""

from __future__ import annotations

import logging
import math
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import fsrs
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from attention_engine import api as engine

from . import services
from .models import (
    LearnerProfile,
    MockInterviewItem,
    PracticeItem,
    Purpose,
    QuestionVersion,
    ReviewCard,
    ReviewLog,
    Submission,
    Topic,
)
from .services import ServiceError

log = logging.getLogger(__name__)

# One scheduler for everybody, with FSRS's default parameters and 90 % desired retention.
SCHEDULER = fsrs.Scheduler()

RATED_PURPOSES = (Purpose.PRACTICE, Purpose.REVIEW, Purpose.MOCK)
RIGHT_SCORE = 1.0 - 1e-9  # a score of 1, float noise aside
PASS_SCORE = 0.5  # from here up a partly right answer is Hard, below it Again
# Stability (days) at which a card counts as fully known. FSRS starts a card answered Easy at
# about 16 days, Good at about 3: one lucky answer is not mastery, a few spaced ones are.
MATURE_DAYS = 60.0

# Expected seconds for a theory question, by type (see the module docstring).
THEORY_SECONDS = {
    "true_false": 20,
    "single_choice": 30,
    "multiple_response": 45,
    "numeric": 60,
    "short_answer": 60,
    "matching": 60,
    "ordering": 60,
}
NUMERIC_READ_SECONDS = 30
NUMERIC_PART_SECONDS = 45
NUMERIC_CELL_SECONDS = 15


# --- Ratings ------------------------------------------------------------------------------------


def expected_seconds(item: PracticeItem) -> float:
    """How long a confident learner needs for this item; answering within it counts as fast."""
    if item.is_numeric:
        parts = item.variant.data["parts"]
        cells = sum(math.prod(p.get("shape") or []) for p in parts)
        return NUMERIC_READ_SECONDS + NUMERIC_PART_SECONDS * len(parts) + NUMERIC_CELL_SECONDS * cells
    return THEORY_SECONDS.get(item.question_version.data["type"], 60)


def rating_rules() -> dict[str, int]:
    """The numbers behind the rating rules, for the page that explains them."""
    return {
        "pass_percent": round(100 * PASS_SCORE),
        "theory_fastest": min(THEORY_SECONDS.values()),
        "theory_slowest": max(THEORY_SECONDS.values()),
        "numeric_read": NUMERIC_READ_SECONDS,
        "numeric_part": NUMERIC_PART_SECONDS,
        "numeric_cell": NUMERIC_CELL_SECONDS,
    }


def rating_for(
    *, score: float, hints_used: int, retry: bool, seconds_taken: float, expected: float
) -> fsrs.Rating:
    """The FSRS rating a grade earns (rules in the module docstring)."""
    if score < PASS_SCORE:
        return fsrs.Rating.Again
    if score < RIGHT_SCORE or hints_used > 0 or retry:
        return fsrs.Rating.Hard
    if seconds_taken <= expected:
        return fsrs.Rating.Easy
    return fsrs.Rating.Good


def _card_subject(item: PracticeItem) -> dict[str, Any]:
    if item.is_numeric:
        return {"kind": item.variant.kind}
    return {"question_id": item.question_version.question_id}


def _card_for_update(*, learner_id: int, item: PracticeItem, now: datetime) -> ReviewCard:
    subject = _card_subject(item)
    card = ReviewCard.objects.select_for_update().filter(learner_id=learner_id, **subject).first()
    if card is not None:
        return card
    try:
        with transaction.atomic():
            return ReviewCard.objects.create(
                learner_id=learner_id,
                fsrs=fsrs.Card(card_id=0, due=now).to_dict(),
                due=now,
                **subject,
            )
    except IntegrityError:  # a concurrent grading made the card first
        return ReviewCard.objects.select_for_update().get(learner_id=learner_id, **subject)


def review_record(*, submission: Submission) -> ReviewLog | None:
    """Rate the learner's card for a graded submission; at most once per submission.

    Called by `services.submission_grade` inside its transaction, right after the grade is
    saved, so the rating commits with the grade or not at all. It never raises: a failure is
    logged and leaves the grade intact. Returns the log, or None when the answer rates nothing.
    """
    if submission.status != Submission.Status.GRADED or submission.score is None:
        return None
    if submission.item.purpose not in RATED_PURPOSES:
        return None
    if submission.item.purpose == Purpose.MOCK and not _counts_in_finished_mock(submission):
        return None
    try:
        with transaction.atomic():
            return _review_record(submission)
    except Exception:
        log.exception("could not rate the review card of submission %s", submission.id)
        return None


def _counts_in_finished_mock(submission: Submission) -> bool:
    """A mock interview's answer rates a card once the interview is over, and only the answer
    that counted (the learner's last): answers replaced during the interview got no feedback,
    so they are neither a lapse nor a retry."""
    entry = MockInterviewItem.objects.select_related("mock").filter(item_id=submission.item_id).first()
    if entry is None:
        return False
    mock = entry.mock
    if mock.finished_at is None and timezone.now() < mock.deadline:
        return False
    latest = Submission.objects.filter(item_id=submission.item_id).order_by("-id").values_list("id", flat=True).first()
    return latest == submission.id


def mock_reviews_record(*, mock) -> list[ReviewLog]:
    """Rate the cards of a finished mock interview's answers that are already graded (the ones
    graded later are rated by the grading hook). Safe to repeat: a submission rates once."""
    logs = []
    for entry in MockInterviewItem.objects.filter(mock=mock).select_related("item"):
        latest = Submission.objects.filter(item=entry.item).select_related("item").order_by("-id").first()
        if latest is not None and (log_entry := review_record(submission=latest)) is not None:
            logs.append(log_entry)
    return logs


def _review_record(submission: Submission) -> ReviewLog | None:
    existing = ReviewLog.objects.filter(submission=submission).first()
    if existing is not None:
        return existing
    item = submission.item
    # In a mock interview, answers the learner replaced were never shown a result: no retries.
    earlier = [] if item.purpose == Purpose.MOCK else list(
        Submission.objects.filter(item=item, status=Submission.Status.GRADED, id__lt=submission.id)
        .exclude(score=None)
        .values_list("score", flat=True)
    )
    if any(score >= RIGHT_SCORE for score in earlier):
        return None
    now = timezone.now()
    seconds_taken = max(0.0, (submission.created_at - item.created_at).total_seconds())
    rating = rating_for(
        score=submission.score,
        hints_used=item.hints_revealed,
        retry=bool(earlier),
        seconds_taken=seconds_taken,
        expected=expected_seconds(item),
    )
    card = _card_for_update(learner_id=submission.learner_id, item=item, now=now)
    before = fsrs.Card.from_dict(card.fsrs)
    after, _ = SCHEDULER.review_card(before, rating, review_datetime=now)
    card.fsrs = after.to_dict()
    card.due = after.due
    card.stability = after.stability
    card.reps += 1
    if rating == fsrs.Rating.Again and before.state == fsrs.State.Review:
        card.lapses += 1  # FSRS's lapse: forgetting a card that had graduated to review
    card.last_rating = int(rating)
    card.last_reviewed_at = now
    if item.is_numeric:
        card.difficulty = item.variant.difficulty
    card.save()
    return ReviewLog.objects.create(
        card=card,
        submission=submission,
        rating=int(rating),
        score=submission.score,
        hints_used=item.hints_revealed,
        seconds_taken=seconds_taken,
        reviewed_at=now,
    )


# --- Reviews ------------------------------------------------------------------------------------


def reviews_due(*, learner, now: datetime | None = None):
    """The learner's cards due now, most overdue first."""
    now = now or timezone.now()
    return ReviewCard.objects.filter(learner=learner, due__lte=now).order_by("due", "id")


@dataclass(frozen=True)
class ReviewCounts:
    due_now: int
    due_later_today: int


def review_counts(*, learner, now: datetime | None = None) -> ReviewCounts:
    """Cards due now and cards that fall due later today (one query)."""
    now = now or timezone.now()
    end_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    counts = ReviewCard.objects.filter(learner=learner).aggregate(
        due_now=Count("id", filter=Q(due__lte=now)),
        later=Count("id", filter=Q(due__gt=now, due__lt=end_of_day)),
    )
    return ReviewCounts(due_now=counts["due_now"], due_later_today=counts["later"])


def reviews_due_list(*, learner, now: datetime | None = None) -> list[dict[str, Any]]:
    """Due cards as the learner may see them: what each is about, when it fell due, its counters."""
    kinds = {k["name"]: k["title"] for k in engine.list_kinds()}
    cards = reviews_due(learner=learner, now=now).select_related("question__topic")
    titles = _question_titles([c.question_id for c in cards if c.question_id])
    rows = []
    for card in cards:
        rows.append(
            {
                "id": card.id,
                "subject": "kind" if card.kind else "question",
                "kind": card.kind or None,
                "difficulty": card.difficulty if card.kind else None,
                "question": card.question.slug if card.question_id else None,
                "topic": card.question.topic.slug if card.question_id else None,
                "title": kinds.get(card.kind, card.kind) if card.kind else titles.get(card.question_id, ""),
                "due": card.due,
                "stability_days": card.stability,
                "reps": card.reps,
                "lapses": card.lapses,
                "last_rating": card.last_rating,
            }
        )
    return rows


def _question_titles(question_ids: list[int]) -> dict[int, str]:
    rows = (
        QuestionVersion.objects.filter(question_id__in=question_ids, status=QuestionVersion.Status.PUBLISHED)
        .order_by("question_id", "-number")
        .values_list("question_id", "data__title")
    )
    titles: dict[int, str] = {}
    for question_id, title in rows:
        titles.setdefault(question_id, title)
    return titles


@dataclass(frozen=True)
class ReviewStarted:
    item: PracticeItem
    created: bool


def review_item_next(*, learner, now: datetime | None = None) -> ReviewStarted | None:
    """The item for the most overdue card, or None when nothing is due.

    Asking twice before answering gives the same item (a double click makes one review). A
    card that can no longer be served (its question lost its published version, its kind left
    the engine) is passed over.
    """
    kinds = {k["name"]: k for k in engine.list_kinds()}
    for card in reviews_due(learner=learner, now=now)[:50]:
        open_items = PracticeItem.objects.filter(learner=learner, purpose=Purpose.REVIEW).exclude(
            submissions__status=Submission.Status.GRADED
        )
        if card.kind:
            if card.kind not in kinds or card.difficulty not in kinds[card.kind]["difficulties"]:
                continue
            existing = open_items.filter(variant__kind=card.kind).order_by("-id").first()
            if existing is not None:
                return ReviewStarted(existing, created=False)
            item = services.practice_item_create_numeric(
                learner=learner, kind=card.kind, difficulty=card.difficulty, purpose=Purpose.REVIEW
            )
            return ReviewStarted(item, created=True)
        version = (
            QuestionVersion.objects.filter(question_id=card.question_id, status=QuestionVersion.Status.PUBLISHED)
            .exclude(data__type="essay")
            .order_by("-number")
            .first()
        )
        if version is None:
            continue
        existing = open_items.filter(question_version__question_id=card.question_id).order_by("-id").first()
        if existing is not None:
            return ReviewStarted(existing, created=False)
        item = PracticeItem.objects.create(learner=learner, question_version=version, purpose=Purpose.REVIEW)
        return ReviewStarted(item, created=True)
    return None


# --- The hint ladder ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    rung: int
    title: str
    text: str  # Markdown with $LaTeX$

    def to_dict(self) -> dict[str, Any]:
        return {"rung": self.rung, "title": self.title, "text": self.text}


def hint_rungs(item: PracticeItem) -> list[Hint]:
    """Every rung of the item's hint ladder, easiest first. None of them gives the answer away.

    Theory: the question's own hints; then, for choice questions with at least two wrong
    choices, one wrong choice struck out with its feedback; then where to read (the source).
    Numeric: the worked steps' titles and texts, one step a rung, with every number of the key
    or of the steps' values masked (`mask_key_numbers`); the values themselves never.
    """
    if item.is_numeric:
        data = item.variant.data
        secrets_ = key_numbers(data)
        return [
            Hint(i + 1, f"Step {i + 1}: {step['title']}", mask_key_numbers(step.get("text", ""), secrets_))
            for i, step in enumerate(data.get("steps") or [])
        ]
    data = item.question_version.data
    texts: list[tuple[str, str]] = [
        (f"Hint {i + 1}", hint) for i, hint in enumerate(data.get("hints") or [])
    ]
    if data["type"] in ("single_choice", "multiple_response"):
        wrong = [c for c in data["choices"] if c["weight"] <= 0]
        if len(wrong) >= 2:
            # Which wrong choice is struck is fixed per item, so a reload shows the same one.
            struck = random.Random(item.id).choice(wrong)
            feedback = struck.get("feedback") or ""
            texts.append(("Not this one", f"Rule out: {struck['text']}\n\n{feedback}".strip()))
    elif data["type"] == "matching" and data.get("distractors"):
        distractor = random.Random(item.id).choice(data["distractors"])
        texts.append(("Not this one", f"“{distractor}” matches none of the items."))
    texts.append(("Where to read", f"Read: {data['source']}"))
    return [Hint(i + 1, title, text) for i, (title, text) in enumerate(texts)]


_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_AFTER_EQUALS = re.compile(r"(?:=|\\approx)\s*-?\s*$")
SMALL_INTEGER = 10  # 0..10 appear in every method ("sums to 1", "divide by 2"): kept unless "= n"


def key_numbers(data: dict[str, Any]) -> list[float]:
    """Magnitudes of every number of a variant's key and of its steps' values."""
    found: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            if math.isfinite(value):
                found.append(abs(float(value)))
        elif isinstance(value, str):
            try:
                from fractions import Fraction

                found.append(abs(float(Fraction(value.replace(",", "")))))
            except (ValueError, ZeroDivisionError):
                return
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(data.get("answer"))
    for step in data.get("steps") or []:
        walk(step.get("values"))
    return found


def number_leaks(number: float, after_equals: bool, secrets_: list[float]) -> bool:
    """Whether a number written in a hint would tell part of the key or of a step's values."""
    if number.is_integer() and number <= SMALL_INTEGER and not after_equals:
        return False
    return any(abs(number - s) <= max(1e-9, 0.005 * s) for s in secrets_)


def mask_key_numbers(text: str, secrets_: list[float]) -> str:
    """The text with every number that would tell the key (or a step's value) replaced by `?`."""

    def replace(match: re.Match) -> str:
        number = float(match.group().replace(",", ""))
        after_equals = bool(_AFTER_EQUALS.search(text[: match.start()]))
        return "?" if number_leaks(number, after_equals, secrets_) else match.group()

    return _NUMBER.sub(replace, text)


@dataclass(frozen=True)
class HintLadder:
    revealed: list[Hint]
    total: int

    @property
    def next_rung(self) -> int | None:
        return len(self.revealed) + 1 if len(self.revealed) < self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "revealed": len(self.revealed),
            "total": self.total,
            "next_rung": self.next_rung,
            "hints": [h.to_dict() for h in self.revealed],
        }


def hint_ladder(item: PracticeItem) -> HintLadder:
    """The rungs the learner has opened so far, and how many there are."""
    rungs = hint_rungs(item)
    return HintLadder(revealed=rungs[: item.hints_revealed], total=len(rungs))


def hint_reveal(*, learner, item: PracticeItem, rung: int | None = None) -> HintLadder:
    """Open rung `rung` (1-based) of the item's ladder; None opens the next one.

    Idempotent: a rung already open changes nothing, so a double click counts once. Rungs open
    in order; asking for one beyond the next is refused. Opening hints is recorded on the item
    (`hints_revealed`), never counts as an answer, and lowers the review rating to Hard at best.
    """
    if item.learner_id != learner.id:
        raise ServiceError("This item belongs to another learner.")
    total = len(hint_rungs(item))
    if total == 0:
        raise ServiceError("This item has no hints.")
    current = item.hints_revealed
    if rung is None:
        rung = min(current + 1, total)
    if not 1 <= rung <= total:
        raise ServiceError(f"Hint {rung} does not exist: this item has hints 1 to {total}.")
    if rung > current + 1:
        raise ServiceError(f"Open hint {current + 1} first: hints open in order.")
    if rung == current + 1:
        # Conditional update: of two identical requests racing, one moves the count.
        PracticeItem.objects.filter(id=item.id, hints_revealed=current).update(hints_revealed=rung)
    item.refresh_from_db(fields=["hints_revealed"])
    return hint_ladder(item)


# --- Mastery, streak, profile -------------------------------------------------------------------


@dataclass(frozen=True)
class TopicMastery:
    slug: str
    title: str
    practised: int  # subjects (questions and kinds) of the topic that have a card
    total: int  # subjects of the topic: published questions (no essays) and problem kinds
    percent: int  # 0..100, see `mastery_by_topic`


def card_mastery(*, fsrs_card: dict[str, Any], now: datetime) -> float:
    """One card's share of mastery: recall probability now times stability / 60 days (at most 1)."""
    card = fsrs.Card.from_dict(fsrs_card)
    if card.stability is None or card.last_review is None:
        return 0.0
    recall = SCHEDULER.get_card_retrievability(card, current_datetime=now)
    return recall * min(1.0, card.stability / MATURE_DAYS)


def mastery_by_topic(*, learner, now: datetime | None = None) -> list[TopicMastery]:
    """Mastery per topic, in the bank's order (three queries, whatever the number of topics).

    A topic's subjects are its published questions (essays aside: nothing rates them) and the
    problem kinds listed under it. Each subject with a card contributes `card_mastery`: the
    FSRS probability of recalling it today times how close its stability is to `MATURE_DAYS`.
    The percentage is the mean over all subjects, so unpractised ones count as 0.
    """
    now = now or timezone.now()
    kinds_by_topic: dict[str, list[str]] = {}
    for kind in engine.list_kinds():
        for slug in kind["topics"]:
            kinds_by_topic.setdefault(slug, []).append(kind["name"])
    questions_by_topic: dict[int, set[int]] = {}
    for question_id, topic_id in (
        QuestionVersion.objects.filter(status=QuestionVersion.Status.PUBLISHED)
        .exclude(data__type="essay")
        .values_list("question_id", "question__topic_id")
        .order_by()
        .distinct()
    ):
        questions_by_topic.setdefault(topic_id, set()).add(question_id)
    by_question: dict[int, float] = {}
    by_kind: dict[str, float] = {}
    for question_id, kind, fsrs_card in ReviewCard.objects.filter(learner=learner).values_list(
        "question_id", "kind", "fsrs"
    ):
        value = card_mastery(fsrs_card=fsrs_card, now=now)
        if question_id:
            by_question[question_id] = value
        else:
            by_kind[kind] = value
    rows = []
    for topic in Topic.objects.all():
        questions = questions_by_topic.get(topic.id, set())
        kinds = kinds_by_topic.get(topic.slug, [])
        total = len(questions) + len(kinds)
        if total == 0:
            continue
        values = [by_question[q] for q in questions if q in by_question] + [
            by_kind[k] for k in kinds if k in by_kind
        ]
        rows.append(
            TopicMastery(
                slug=topic.slug,
                title=topic.title,
                practised=len(values),
                total=total,
                percent=round(100 * sum(values) / total),
            )
        )
    return rows


def streak_days(*, learner, now: datetime | None = None) -> int:
    """Consecutive days, ending today or yesterday, on which the learner had an answer graded."""
    today = timezone.localdate(now or timezone.now())
    days = set(
        Submission.objects.filter(learner=learner, status=Submission.Status.GRADED, graded_at__isnull=False)
        .annotate(day=TruncDate("graded_at"))
        .values_list("day", flat=True)
        .distinct()
        .order_by("-day")[:400]
    )
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def learner_profile_for(*, user) -> LearnerProfile:
    """The learner's settings; the defaults (unsaved) when they never changed any."""
    return LearnerProfile.objects.filter(user=user).first() or LearnerProfile(user=user)


def learner_profile_set_streak(*, user, show: bool) -> LearnerProfile:
    """Show or hide the streak on the home page. Setting the current value changes nothing."""
    with transaction.atomic():
        profile, _ = LearnerProfile.objects.select_for_update().get_or_create(user=user)
        if profile.show_streak != show:
            profile.show_streak = show
            profile.save(update_fields=["show_streak"])
    return profile


# --- Practice runs over several topics ----------------------------------------------------------


@dataclass(frozen=True)
class PracticeTopic:
    slug: str
    title: str
    questions: int
    kinds: int


def practice_topics() -> list[PracticeTopic]:
    """Topics a run can draw from: those with published questions (no essays) or problem kinds."""
    kinds_by_topic: dict[str, int] = {}
    for kind in engine.list_kinds():
        for slug in kind["topics"]:
            kinds_by_topic[slug] = kinds_by_topic.get(slug, 0) + 1
    topics = Topic.objects.annotate(
        question_count=Count(
            "questions",
            filter=Q(questions__versions__status=QuestionVersion.Status.PUBLISHED)
            & ~Q(questions__versions__data__type="essay"),
            distinct=True,
        )
    )
    return [
        PracticeTopic(t.slug, t.title, t.question_count, kinds_by_topic.get(t.slug, 0))
        for t in topics
        if t.question_count or kinds_by_topic.get(t.slug)
    ]


def practice_run_topics(*, slugs: list[str]) -> list[str]:
    """The chosen topics, checked and in the bank's order; refuses none, or an unknown one.

    Known topics are the bank's topics with something to practise, then the topics that only
    problem kinds name (the API lists those too), alphabetically.
    """
    if not slugs:
        raise ServiceError("Choose at least one topic to practise.")
    known = [t.slug for t in practice_topics()]
    known += sorted({slug for k in engine.list_kinds() for slug in k["topics"]} - set(known))
    unknown = sorted(set(slugs) - set(known))
    if unknown:
        raise ServiceError(f"Unknown topic {', '.join(repr(s) for s in unknown)}.")
    return [slug for slug in known if slug in set(slugs)]


def practice_item_create_for_topics(
    *, learner, topic_slugs: list[str], turn: int, purpose: str = Purpose.PRACTICE
) -> PracticeItem:
    """The run's item number `turn`: topics take turns (round robin); each topic interleaves its
    theory questions and fresh numeric variants (`services.practice_item_create_for_topic`)."""
    if not topic_slugs:
        raise ServiceError("Choose at least one topic to practise.")
    slug = topic_slugs[turn % len(topic_slugs)]
    return services.practice_item_create_for_topic(learner=learner, topic_slug=slug, purpose=purpose)
