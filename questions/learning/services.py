"""Learning's writes: rate review cards (grading's hook), open hints, start reviews and practice
runs, run mock interviews."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone

from questions.catalogue.models import QuestionVersion
from questions.catalogue.visibility import practisable
from questions.errors import MockClosed, Preparing, ServiceError, ServiceUnavailable
from questions.learning.jobs import mock_finish_locked
from questions.learning.models import (
    LearnerProfile,
    MockInterview,
    MockInterviewItem,
)
from questions.learning.rules import (
    NUMERIC_DIFFICULTY,
    PLACEMENT_LEVELS,
    PLACEMENT_MAX_ITEMS,
    HintLadder,
    hint_ladder,
    hint_rungs,
    is_time_up,
    placement_plan,
    preset_for,
)
from questions.learning.selectors import (
    mock_active,
    mock_topic_slugs,
    placement_offers,
    reviews_due,
    theory_candidates,
    topic_start_difficulty,
)
from questions.practice.models import PracticeItem, Purpose, Submission
from questions.practice.rules import kinds_by_name, kinds_for_topics
from questions.practice.services import (
    SubmissionCreated,
    drafts_checked_by,
    practice_item_create_for_topic,
    practice_item_create_numeric,
    submission_create,
)

log = logging.getLogger(__name__)


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
    kinds = kinds_by_name()
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
            item = practice_item_create_numeric(
                learner=learner, kind=card.kind, difficulty=card.difficulty, purpose=Purpose.REVIEW
            )
            return ReviewStarted(item, created=True)
        version = (
            QuestionVersion.objects.filter(
                practisable(learner=learner, now=now, prefix="question__"),
                question_id=card.question_id,
                status=QuestionVersion.Status.PUBLISHED,
            )
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


def learner_profile_set_streak(*, user, show: bool) -> LearnerProfile:
    """Show or hide the streak on the home page. Setting the current value changes nothing."""
    with transaction.atomic():
        profile, _ = LearnerProfile.objects.select_for_update().get_or_create(user=user)
        if profile.show_streak != show:
            profile.show_streak = show
            profile.save(update_fields=["show_streak"])
    return profile


def practice_item_create_for_topics(
    *, learner, topic_slugs: list[str], turn: int, purpose: str = Purpose.PRACTICE
) -> PracticeItem:
    """The run's item number `turn`: topics take turns (round robin); each topic interleaves its
    theory questions and fresh numeric variants (`practice_item_create_at_level`)."""
    if not topic_slugs:
        raise ServiceError("Choose at least one topic to practise.")
    slug = topic_slugs[turn % len(topic_slugs)]
    return practice_item_create_at_level(learner=learner, topic_slug=slug, purpose=purpose)


def practice_item_create_at_level(*, learner, topic_slug: str, purpose: str = Purpose.PRACTICE) -> PracticeItem:
    """The topic's next item (`practice_item_create_for_topic`) at the learner's starting
    difficulty for it: the one their placement set, else easy (`selectors.topic_start_difficulty`)."""
    difficulty = topic_start_difficulty(learner=learner, topic_slug=topic_slug)
    return practice_item_create_for_topic(
        learner=learner, topic_slug=topic_slug, difficulty=difficulty, purpose=purpose
    )


# --- The placement ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacementStarted:
    profile: LearnerProfile
    created: bool


def _placement_open(profile: LearnerProfile) -> bool:
    return bool(profile.placement_items) and profile.placement_finished_at is None


def placement_start(*, learner) -> PlacementStarted:
    """Draw the placement's questions (`rules.placement_plan`: one per topic over distinct
    topics, theory and numeric problems at easy and medium), at most `PLACEMENT_MAX_ITEMS`, or
    give back the learner's open placement (created=False): starting twice draws nothing new.

    Numeric problems come from the worker's stock; when the worker cannot make one in time the
    slot takes a theory question of its topic instead (and later slots do not wait again).
    Starting is taking it: an earlier "Skip" is cleared. A finished placement is replaced.
    """
    profile = LearnerProfile.objects.filter(user=learner).first()
    if profile is not None and _placement_open(profile):
        return PlacementStarted(profile, created=False)
    offers, theory = placement_offers(learner=learner)
    rng = random.SystemRandom()
    numeric: dict[int, PracticeItem] = {}
    chosen: dict[int, QuestionVersion] = {}
    topics: list[str] = []
    worker_answers = True
    for slot in placement_plan(offers, rng)[:PLACEMENT_MAX_ITEMS]:
        if slot.form == "numeric" and worker_answers:
            try:
                numeric[len(topics)] = practice_item_create_numeric(
                    learner=learner, kind=slot.kind, difficulty=slot.difficulty
                )
                topics.append(slot.topic)
                continue
            except (ServiceUnavailable, Preparing):
                log.warning("placement: no numeric variant available, using theory", exc_info=True)
                worker_answers = False
        levels = theory.get(slot.topic, {})
        versions = next((levels[lv] for lv in (slot.difficulty, *PLACEMENT_LEVELS) if levels.get(lv)), None)
        if versions:
            chosen[len(topics)] = rng.choice(versions)
            topics.append(slot.topic)
    if not topics:
        raise ServiceUnavailable("No question can be served for the placement right now; please try again.")

    with transaction.atomic():
        profile, _ = LearnerProfile.objects.select_for_update().get_or_create(user=learner)
        if _placement_open(profile):  # a concurrent start won: keep its questions
            PracticeItem.objects.filter(id__in=[item.id for item in numeric.values()]).delete()
            return PlacementStarted(profile, created=False)
        items = {
            position: PracticeItem.objects.create(learner=learner, question_version=version)
            for position, version in chosen.items()
        } | numeric
        profile.placement_items = [{"item": items[p].id, "topic": topic} for p, topic in enumerate(topics)]
        profile.placement_started_at = timezone.now()
        profile.placement_finished_at = None
        profile.placement_skipped_at = None
        profile.save()
    return PlacementStarted(profile, created=True)


def placement_finish(*, learner) -> LearnerProfile:
    """The learner reached the placement's end: it is closed (its levels stand). Idempotent."""
    with transaction.atomic():
        profile, _ = LearnerProfile.objects.select_for_update().get_or_create(user=learner)
        if _placement_open(profile):
            profile.placement_finished_at = timezone.now()
            profile.save(update_fields=["placement_finished_at"])
    return profile


def placement_skip(*, learner) -> LearnerProfile:
    """"Skip": the home stops offering the placement (its lower part still links to it). The
    first skip is the one recorded."""
    with transaction.atomic():
        profile, _ = LearnerProfile.objects.select_for_update().get_or_create(user=learner)
        if profile.placement_skipped_at is None:
            profile.placement_skipped_at = timezone.now()
            profile.save(update_fields=["placement_skipped_at"])
    return profile


@dataclass(frozen=True)
class MockStarted:
    mock: MockInterview
    created: bool


def mock_interview_start(*, learner, topic_slugs: list[str], preset_key: str) -> MockStarted:
    """Make every question of a new interview, then start its clock.

    Numeric variants come from the worker's stock; when the worker cannot make one in time
    (ServiceUnavailable, Preparing) the place goes to a theory question instead. A learner with an
    interview still running gets that one back (created=False), so a double click starts one.
    """
    preset = preset_for(preset_key)
    slugs = mock_topic_slugs(topic_slugs)
    running = mock_active(learner=learner)
    if running is not None:
        return MockStarted(running, created=False)

    rng = random.SystemRandom()
    kinds = kinds_for_topics(slugs)
    rng.shuffle(kinds)
    theory = theory_candidates(learner=learner, topic_slugs=slugs, rng=rng)
    wanted_numeric = 0
    if kinds:
        wanted_numeric = min(preset.questions, max(round(preset.questions / 3), preset.questions - len(theory)))
    numeric: list[PracticeItem] = []
    for index in range(wanted_numeric):
        try:
            numeric.append(
                practice_item_create_numeric(
                    learner=learner,
                    kind=kinds[index % len(kinds)],
                    difficulty=NUMERIC_DIFFICULTY,
                    purpose=Purpose.MOCK,
                )
            )
        except (ServiceUnavailable, Preparing):
            # Each further try would wait for the worker again: theory fills the rest.
            log.warning("mock interview: no numeric variant available, using theory", exc_info=True)
            break
    chosen_theory = theory[: preset.questions - len(numeric)]
    count = len(numeric) + len(chosen_theory)
    if count == 0:
        raise ServiceUnavailable(
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
) -> SubmissionCreated:
    """Accept an answer to one question of a running interview, or refuse it (MockClosed).

    The interview row stays locked while the answer is stored, so a concurrent finish either
    happens before (the answer is refused) or after (the answer counts). Unreadable answers are
    refused by `submission_create` (AnswerFormatError) and cost nothing. An interview found past
    its deadline is stored finished at it (in its own transaction, so the refusal keeps it).
    """
    with transaction.atomic():
        mock = get_object_or_404(MockInterview.objects.select_for_update(), id=mock_id, learner=learner)
        time_up = is_time_up(mock)
        if time_up:
            mock_finish_locked(mock, at=mock.deadline)  # committed with the refusal below
        elif mock.finished_at is None:
            entry = get_object_or_404(
                MockInterviewItem.objects.select_related("item__variant", "item__question_version"),
                mock=mock,
                position=position,
            )
            return submission_create(
                learner=learner, item=entry.item, answer=answer, idempotency_key=idempotency_key
            )
    if time_up:
        raise MockClosed("Time is up: answers are no longer accepted. This one was not saved.")
    raise MockClosed("This interview is finished: answers are no longer accepted. This one was not saved.")


@drafts_checked_by(Purpose.MOCK)
def mock_draft_refusal(item: PracticeItem, now: datetime) -> str | None:
    """Why a draft of a mock interview's question is not kept: the interview is over (finished
    or out of time). Locks the interview row, as an answer does (`mock_answer_submit`)."""
    entry = MockInterviewItem.objects.filter(item=item).only("mock_id").first()
    if entry is None:
        return "This question is not part of an interview."
    mock = MockInterview.objects.select_for_update().get(id=entry.mock_id)
    if mock.finished_at is not None or now >= mock.deadline:
        return "This interview is over: nothing more is kept for it."
    return None


def mock_interview_finish(*, learner, mock_id: int) -> MockInterview:
    """Finish now ("I am done"). Finishing a finished interview changes nothing; one past its
    deadline is finished at the deadline, not later."""
    with transaction.atomic():
        mock = get_object_or_404(MockInterview.objects.select_for_update(), id=mock_id, learner=learner)
        mock_finish_locked(mock, at=min(timezone.now(), mock.deadline))
    return mock


