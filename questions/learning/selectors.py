"""Reads of learning: reviews due, mastery, streaks, practice topics, mock interviews and summaries."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Prefetch, Q
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from questions.catalogue.models import Question, QuestionVersion, Topic
from questions.catalogue.visibility import QuestionWithheld, practisable
from questions.errors import MockClosed, ServiceError
from questions.keyed import opaque_id
from questions.learning.models import LearnerProfile, MockInterview, MockInterviewItem, ReviewCard
from questions.learning.rules import (
    _REVIEW_ORDER,
    PARTIAL,
    PENDING,
    PLACEMENT_LEVELS,
    PLACEMENT_MAX_ITEMS,
    RIGHT,
    RIGHT_SCORE,
    START_LEVEL,
    UNANSWERED,
    UNREADABLE,
    WRONG,
    answer_mastery,
    card_mastery,
    is_time_up,
    placement_offer,
    placement_topics,
    starting_level,
)
from questions.practice.models import PracticeItem, Submission
from questions.practice.rules import kind_titles, kinds_by_name
from questions.practice.rules import kinds_by_topic as practice_kinds_by_topic


def _servable(*, learner, now: datetime) -> Q:
    """Cards a review may serve now: a kind's, or a question's that is not withheld."""
    return Q(question__isnull=True) | practisable(learner=learner, now=now, prefix="question__")


def reviews_due(*, learner, now: datetime | None = None):
    """The learner's cards due now, most overdue first; a question withheld for an open quiz of
    the learner's course waits until the quiz closes (`questions.catalogue.visibility`)."""
    now = now or timezone.now()
    return (
        ReviewCard.objects.filter(learner=learner, due__lte=now)
        .filter(_servable(learner=learner, now=now))
        .order_by("due", "id")
    )


@dataclass(frozen=True)
class ReviewCounts:
    due_now: int
    due_later_today: int


def review_counts(*, learner, now: datetime | None = None) -> ReviewCounts:
    """Cards due now and cards that fall due later today (one query)."""
    now = now or timezone.now()
    end_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    counts = ReviewCard.objects.filter(learner=learner).filter(_servable(learner=learner, now=now)).aggregate(
        due_now=Count("id", filter=Q(due__lte=now)),
        later=Count("id", filter=Q(due__gt=now, due__lt=end_of_day)),
    )
    return ReviewCounts(due_now=counts["due_now"], due_later_today=counts["later"])


def reviews_due_list(*, learner, now: datetime | None = None) -> list[dict[str, Any]]:
    """Due cards as the learner may see them: what each is about, when it fell due, its counters."""
    kinds = kind_titles()
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
                "question": opaque_id("question", card.question_id) if card.question_id else None,
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
class TopicMastery:
    slug: str
    title: str
    practised: int  # subjects (questions and kinds) of the topic that have a card
    total: int  # subjects of the topic: published questions (no essays) and problem kinds
    percent: int  # 0..100 mastery now, by each subject's last answer, see `mastery_by_topic`
    long_term: int  # 0..100 long-term mastery, by FSRS memory, see `mastery_by_topic`


def mastery_by_topic(*, learner, now: datetime | None = None) -> list[TopicMastery]:
    """Mastery per topic, in the bank's order (three queries, whatever the number of topics).

    A topic's subjects are its published questions (essays aside: nothing rates them) and the
    problem kinds listed under it. Mastery (`percent`) is the mean over the subjects of
    `answer_mastery`, by the rating of each one's last answer (right 1, partly right or with
    help 0.5, wrong 0), so three right answers move it at once; long-term mastery (`long_term`)
    is the mean of `card_mastery`: the FSRS probability of recalling it today times how close
    its stability is to `MATURE_DAYS`. Unpractised subjects count as 0 in both.
    """
    now = now or timezone.now()
    kinds_by_topic = practice_kinds_by_topic()
    questions_by_topic: dict[int, set[int]] = {}
    for question_id, topic_id in (
        QuestionVersion.objects.filter(status=QuestionVersion.Status.PUBLISHED, question__owner__isnull=True)
        .exclude(data__type="essay")
        .values_list("question_id", "question__topic_id")
        .order_by()
        .distinct()
    ):
        questions_by_topic.setdefault(topic_id, set()).add(question_id)
    by_question: dict[int, tuple[float, float]] = {}
    by_kind: dict[str, tuple[float, float]] = {}
    for question_id, kind, fsrs_card, last_rating in ReviewCard.objects.filter(learner=learner).values_list(
        "question_id", "kind", "fsrs", "last_rating"
    ):
        value = (answer_mastery(last_rating), card_mastery(fsrs_card=fsrs_card, now=now))
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
                percent=round(100 * sum(now_ for now_, _ in values) / total),
                long_term=round(100 * sum(later for _, later in values) / total),
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


@dataclass(frozen=True)
class PracticeTopic:
    slug: str
    title: str
    questions: int
    kinds: int


def practice_topics() -> list[PracticeTopic]:
    """Topics a run can draw from: those with published questions (no essays) or problem kinds."""
    kinds_by_topic = {slug: len(names) for slug, names in practice_kinds_by_topic().items()}
    topics = Topic.objects.annotate(
        question_count=Count(
            "questions",
            filter=Q(questions__versions__status=QuestionVersion.Status.PUBLISHED, questions__owner__isnull=True)
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
    known += sorted(set(practice_kinds_by_topic()) - set(known))
    unknown = sorted(set(slugs) - set(known))
    if unknown:
        raise ServiceError(f"Unknown topic {', '.join(repr(s) for s in unknown)}.")
    return [slug for slug in known if slug in set(slugs)]


def theory_candidates(*, learner, topic_slugs: list[str], rng: random.Random) -> list[QuestionVersion]:
    """Published, automatically graded questions of the topics, the learner's least recently seen
    first within each topic, dealt round-robin across topics so a mock covers every topic."""
    versions = list(
        QuestionVersion.objects.filter(
            practisable(learner=learner, prefix="question__"),
            question__topic__slug__in=topic_slugs,
            status=QuestionVersion.Status.PUBLISHED,
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


def mock_topic_slugs(topic_slugs: list[str]) -> list[str]:
    slugs = list(dict.fromkeys(s for s in topic_slugs if s))
    if not slugs:
        raise ServiceError("Choose at least one topic.")
    known = set(Topic.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    unknown = [s for s in slugs if s not in known]
    if unknown:
        raise ServiceError(f"Unknown topic: {', '.join(unknown)}.")
    return slugs


def mock_for_learner(*, learner, mock_id: int) -> MockInterview:
    """The learner's interview as of now (`mock_as_of`); a stranger's id is a 404."""
    return mock_as_of(get_object_or_404(MockInterview, id=mock_id, learner=learner))


def mock_as_of(mock: MockInterview) -> MockInterview:
    """The interview as it stands now, computed without writing: one past its deadline reads as
    finished at it (the beat task or the next write stores that, and rates the cards)."""
    if mock.finished_at is None and timezone.now() >= mock.deadline:
        mock.finished_at = mock.deadline
    return mock


def mock_active(*, learner) -> MockInterview | None:
    """The learner's running interview (not finished, deadline ahead), if any."""
    return (
        MockInterview.objects.filter(learner=learner, finished_at__isnull=True, deadline__gt=timezone.now())
        .order_by("-started_at", "-id")
        .first()
    )


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
    """The interview with its entries, for its review; refused (403) while one of its questions
    is withheld for an open quiz of the learner's course, since the review shows keys."""
    entries = mock_entries(mock=mock)
    asked = [e.item.question_version.question_id for e in entries if e.item.question_version_id]
    if Question.objects.filter(id__in=asked).exclude(practisable(learner=mock.learner)).exists():
        raise QuestionWithheld()
    return MockSummary(mock, entries)


def mock_history(*, learner, limit: int = 20) -> list[MockSummary]:
    """The learner's interviews, newest first, with their scores (a fixed number of queries)."""
    mocks = list(
        MockInterview.objects.filter(learner=learner)
        .order_by("-started_at", "-id")[:limit]
        .prefetch_related(Prefetch("entries", queryset=_entries_query().order_by("position")))
    )
    return [MockSummary(mock, [_entry(row) for row in mock.entries.all()]) for mock in mocks]



def require_mock_item_open(*, item, now: datetime | None = None) -> None:
    """A mock-interview item may still be worked on (the interview runs), else `MockClosed` (409):
    what "Run examples" on an interview's code question checks."""
    entry = MockInterviewItem.objects.select_related("mock").filter(item=item).first()
    if entry is None or entry.mock.finished_at is not None or (now or timezone.now()) >= entry.mock.deadline:
        raise MockClosed("This interview is over: its examples can no longer be run.")


@dataclass(frozen=True)
class RunQuestion:
    item: PracticeItem
    position: int
    submission: Submission | None  # the latest answer, graded or not
    score: float | None  # None: not answered (counts 0)


@dataclass(frozen=True)
class RunSummary:
    questions: list[RunQuestion]
    score: float  # mean over the session's questions, unanswered ones as 0
    answered: int
    mistakes: list[RunQuestion]  # answered below full marks, a named mistake first
    review_topics: list[str]  # titles of the topics of the questions missed
    next_review: datetime | None  # the soonest review of the session's questions


def run_summary(*, learner, item_ids: list[int], topics: list[str] = ()) -> RunSummary:
    """A practice session's end: its score, its mistakes (each with the answer to open for the
    worked solution), the topics to review and when the next review of its questions is due.
    `item_ids` come from the learner's session (another learner's items are left out); a missed
    problem kind is reviewed under the first of its topics the session chose (`topics`)."""
    items = {i.id: i for i in PracticeItem.objects.filter(id__in=item_ids[:100], learner=learner)
             .select_related("variant", "question_version__question__topic")}
    latest: dict[int, Submission] = {}
    for submission in Submission.objects.filter(item_id__in=items, learner=learner).order_by("id"):
        latest[submission.item_id] = submission
    questions = []
    for position, item_id in enumerate(item_ids[:100], start=1):
        if item_id in items:
            submission = latest.get(item_id)
            graded = submission is not None and submission.status == Submission.Status.GRADED
            questions.append(RunQuestion(items[item_id], position, submission, submission.score if graded else None))
    answered = [q for q in questions if q.score is not None]
    mistakes = sorted((q for q in answered if q.score < 1),
                      key=lambda q: (not (q.submission.result or {}).get("misconception"), q.position))
    kinds = {name: kind["topics"] for name, kind in kinds_by_name().items()}
    topic_titles = {t.slug: t.title for t in Topic.objects.all()}
    review = []
    for q in mistakes:
        if q.item.question_version_id:
            slugs = [q.item.question_version.question.topic.slug]
        else:
            own = [s for s in kinds.get(q.item.variant.kind, []) if s in topic_titles]
            slugs = ([s for s in own if s in topics] or own)[:1]
        review += [topic_titles.get(s, s) for s in slugs if topic_titles.get(s, s) not in review]
    question_ids = [q.item.question_version.question_id for q in questions if q.item.question_version_id]
    kind_names = [q.item.variant.kind for q in questions if q.item.variant_id]
    due = ReviewCard.objects.filter(Q(question_id__in=question_ids) | Q(kind__in=kind_names), learner=learner)
    next_review = due.order_by("due").values_list("due", flat=True).first()
    score = sum(q.score or 0.0 for q in questions) / len(questions) if questions else 0.0
    return RunSummary(questions, score, len(answered), mistakes, review, next_review)



# --- The placement ----------------------------------------------------------------------------


def placement_theory(*, learner, topic_slugs: list[str]) -> dict[str, dict[str, list[QuestionVersion]]]:
    """The theory questions a placement may ask, by topic and level (easy and medium only), the
    learner's never-seen ones alone where a level has any (one query, then one for what was seen)."""
    versions = list(
        QuestionVersion.objects.filter(
            practisable(learner=learner, prefix="question__"),
            question__topic__slug__in=topic_slugs,
            status=QuestionVersion.Status.PUBLISHED,
            data__difficulty__in=PLACEMENT_LEVELS,
        )
        .exclude(data__type="essay")
        .select_related("question__topic")
        .order_by("question_id")
    )
    seen = set(
        PracticeItem.objects.filter(learner=learner, question_version__question_id__in=[v.question_id for v in versions])
        .values_list("question_version__question_id", flat=True)
    )
    by_topic: dict[str, dict[str, list[QuestionVersion]]] = defaultdict(lambda: defaultdict(list))
    for version in versions:
        by_topic[version.question.topic.slug][version.data["difficulty"]].append(version)
    for levels in by_topic.values():
        for level, found in levels.items():
            fresh = [v for v in found if v.question_id not in seen]
            levels[level] = fresh or found
    return by_topic


def placement_offers(*, learner) -> tuple[list[tuple[str, set[str], list[str]]], dict]:
    """What `rules.placement_plan` chooses from: for the placement's topics (`placement_topics`
    over the bank's practice topics), the levels each has theory questions at and its numeric
    problem kinds (code exercises take too long for a placement); and those questions."""
    kinds = kinds_by_name()
    by_topic = practice_kinds_by_topic()
    slugs = placement_topics([t.slug for t in practice_topics()])
    theory = placement_theory(learner=learner, topic_slugs=slugs)
    offers = [
        (slug, set(theory.get(slug, {})),
         [k for k in by_topic.get(slug, []) if kinds[k]["answer_type"] == "numeric"])
        for slug in slugs
    ]
    return offers, theory


def _first_graded(item_ids: list[int]) -> tuple[dict[int, Submission], set[int]]:
    """Each item's first graded answer (the one the placement reads: a retry after seeing the
    result would measure the feedback), and the items with an answer still being graded."""
    first: dict[int, Submission] = {}
    pending: set[int] = set()
    for submission in Submission.objects.filter(item_id__in=item_ids).order_by("id"):
        if submission.status == Submission.Status.GRADED and submission.score is not None:
            first.setdefault(submission.item_id, submission)
        elif submission.status == Submission.Status.PENDING:
            pending.add(submission.item_id)
    return first, pending - set(first)


def _asked_level(item: PracticeItem) -> str:
    return item.variant.difficulty if item.variant_id else item.question_version.data["difficulty"]


@dataclass(frozen=True)
class PlacementRow:
    position: int
    topic: str  # slug
    topic_title: str
    item: PracticeItem
    asked: str  # the question's difficulty
    outcome: str  # RIGHT, PARTIAL, WRONG, PENDING or UNANSWERED
    score: float | None
    start: str  # the topic's starting difficulty it sets


@dataclass(frozen=True)
class Placement:
    rows: list[PlacementRow]
    finished: bool

    @property
    def answered(self) -> int:
        return sum(1 for r in self.rows if r.score is not None)

    @property
    def pending(self) -> int:
        return sum(1 for r in self.rows if r.outcome == PENDING)


def placement_for(*, learner, profile: LearnerProfile | None = None) -> Placement:
    """The learner's latest placement, question by question: how each was answered and the
    starting difficulty it sets for its topic (`rules.starting_level`). Three queries."""
    profile = profile or learner_profile_for(user=learner)
    entries = profile.placement_items[:PLACEMENT_MAX_ITEMS]
    ids = [e["item"] for e in entries]
    items = {i.id: i for i in PracticeItem.objects.filter(id__in=ids, learner=learner)
             .select_related("variant", "question_version")}
    first, pending = _first_graded(list(items))
    titles = dict(Topic.objects.filter(slug__in=[e["topic"] for e in entries]).values_list("slug", "title"))
    rows = []
    for position, entry in enumerate(entries, start=1):
        item = items.get(entry["item"])
        if item is None:
            continue
        graded = first.get(item.id)
        score = graded.score if graded else None
        if graded is not None:
            outcome = RIGHT if score >= RIGHT_SCORE else PARTIAL if score > 0 else WRONG
        else:
            outcome = PENDING if item.id in pending else UNANSWERED
        asked = _asked_level(item)
        rows.append(PlacementRow(position, entry["topic"], titles.get(entry["topic"], entry["topic"]), item,
                                 asked, outcome, score, starting_level(asked=asked, score=score)))
    return Placement(rows, finished=profile.placement_finished_at is not None)


def topic_start_difficulties(*, learner) -> dict[str, str]:
    """Topic slug -> the difficulty its practice starts at, set by the placement; a topic that
    is not in it starts at `rules.START_LEVEL`."""
    return {row.topic: row.start for row in placement_for(learner=learner).rows}


def topic_start_difficulty(*, learner, topic_slug: str) -> str:
    return topic_start_difficulties(learner=learner).get(topic_slug, START_LEVEL)


def placement_offer_for(*, learner, profile: LearnerProfile | None = None) -> str | None:
    """"start", "resume" or None: what the home's Continue offers (`rules.placement_offer`)."""
    profile = profile or learner_profile_for(user=learner)
    started = bool(profile.placement_items)
    return placement_offer(
        answered_before=not started and Submission.objects.filter(learner=learner).exists(),
        started=started,
        finished=profile.placement_finished_at is not None,
        skipped=profile.placement_skipped_at is not None,
    )


def placement_answered(*, learner, item_ids: list[int]) -> list[int]:
    """The placement questions the learner has answered (graded or being graded), in order."""
    answered = set(
        Submission.objects.filter(learner=learner, item_id__in=item_ids[:PLACEMENT_MAX_ITEMS])
        .exclude(status=Submission.Status.INVALID)
        .values_list("item_id", flat=True)
    )
    return [i for i in item_ids if i in answered]
