"""Quizzes: building them, attempts, answers, marks and the policies that turn grades into marks.

Writes are keyword-only `<entity>_<action>` functions in transactions, safe to repeat; the pure
policy functions at the top (`cbm_score`, `try_fraction`, `grade_of_attempts`,
`feedback_visible`) hold the rules and are what the tests pin down.

How a quiz runs:

* A quiz has sections. A section is a pool: draw `draw_count` of its bank questions, or
  `draw_count` fresh variants of a problem kind at a difficulty. Every drawn question is one
  *slot* of the attempt (numbered in section order, then draw order: the statistics column),
  worth the section's `points`. `shuffle` shows the slots in a per-attempt order.
* A slot is a `PracticeItem` with purpose QUIZ, so answers reuse `Submission`,
  `services.submission_create` and the exactly-once grading task; `QuizAnswer` ties each try
  to its slot and keeps the certainty.
* Draws are deterministic: the stable hash `stable_int(quiz, section or slot, learner,
  attempt number)` (SHA-256, never Python's `hash()`) orders a pool and picks a numeric seed.
  The same attempt reads back the same; other learners and other attempts hash differently;
  a theory pool prefers questions the learner has not drawn in earlier attempts. A seed whose
  variant is already some other item's (Variant is one-to-one with its item) is skipped for
  the next one, `seed + 1`, deterministically.
* Time: `deadline = min(started_at + time_limit, closes_at)` (None when neither is set).
  Answers at or after it are refused and not stored. An attempt found past its deadline is
  submitted *at the deadline* (`submitted_at = deadline`, `submitted_by = "deadline"`) by
  whichever comes first: any access through this module, or the beat task
  `close_overdue_attempts` (idempotent).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from attention_engine import ENGINE_VERSION

from . import services
from .courses import STAFF_ROLES, require_role
from .models import (
    AttemptSlot,
    Course,
    Membership,
    PracticeItem,
    Purpose,
    Question,
    QuestionVersion,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    QuizSection,
    Submission,
    Variant,
)
from .services import ServiceError, ServiceUnavailable

log = logging.getLogger(__name__)

SEED_SPACE = 2**31
SEED_PROBES = 50


class AttemptClosed(ServiceError):
    """The attempt is over (submitted, or its deadline passed): the answer was not stored."""

    status = 409


# --- Policies (pure) ---------------------------------------------------------------------------

# Certainty-based marking, Gardner-Medwin's scheme as Moodle uses it: certainty 1 / 2 / 3 scores
# +1 / +2 / +3 when right and 0 / -2 / -6 when wrong.
CBM_RIGHT = {1: 1.0, 2: 2.0, 3: 3.0}
CBM_WRONG = {1: 0.0, 2: -2.0, 3: -6.0}


def cbm_score(fraction: float, certainty: int) -> float:
    """The CBM score of a graded fraction f in [0, 1] at certainty c, in [-6, 3].

    Partial credit is interpolated linearly between the wrong and the right score:
    ``f * right[c] + (1 - f) * wrong[c]`` (so f = 1 gives +c, f = 0 gives the wrong score, and
    half right at certainty 3 gives 0.5 * 3 + 0.5 * -6 = -1.5). The slot's mark is
    ``points * cbm_score / 3``: a confident right answer earns the full points, a confident
    wrong one costs twice the points.
    """
    if certainty not in CBM_RIGHT:
        raise ValueError(f"certainty must be 1, 2 or 3, got {certainty!r}")
    return fraction * CBM_RIGHT[certainty] + (1.0 - fraction) * CBM_WRONG[certainty]


def try_fraction(fractions: Sequence[float], *, penalty: float, immediate: bool) -> float:
    """The fraction a slot earns from its graded tries, in order (the last one counts).

    With immediate feedback (Moodle's "interactive with multiple tries"), each earlier try that
    was not fully right costs `penalty`, and the result never goes below 0:
    ``max(0, f_last - penalty * wrong_earlier_tries)``. Without immediate feedback the learner
    never saw a try's result, so changing an answer is free: the last try counts as it is.
    """
    if not fractions:
        return 0.0
    if not immediate:
        return fractions[-1]
    wrong_before = sum(1 for f in fractions[:-1] if f < 1.0)
    return max(0.0, fractions[-1] - penalty * wrong_before)


def grade_of_attempts(scores: Sequence[float], method: str) -> float | None:
    """A learner's quiz grade from their finished attempts' scores, oldest first."""
    if not scores:
        return None
    if method == Quiz.GradingMethod.HIGHEST:
        return max(scores)
    if method == Quiz.GradingMethod.LAST:
        return scores[-1]
    if method == Quiz.GradingMethod.FIRST:
        return scores[0]
    if method == Quiz.GradingMethod.AVERAGE:
        return sum(scores) / len(scores)
    raise ValueError(f"unknown grading method {method!r}")


@dataclass(frozen=True)
class Visibility:
    """What a learner may see of an attempt now: per-try results, and keys (with the worked
    solution, explanations and the regrade notes)."""

    feedback: bool
    keys: bool


def feedback_visible(*, quiz: Quiz, attempt: QuizAttempt, now: datetime | None = None) -> Visibility:
    """The quiz's feedback timing applied to one attempt.

    * immediate: each try's score and feedback as soon as it is graded; keys once the attempt
      is submitted (showing a key earlier would give the remaining tries away);
    * after_submission: both once the attempt is submitted;
    * after_close: both once the attempt is submitted and the quiz's close time has passed.
    Marks count as feedback: before this allows, a learner sees only that a slot is answered.
    """
    now = now or timezone.now()
    submitted = attempt.state == QuizAttempt.State.SUBMITTED
    if quiz.feedback_timing == Quiz.FeedbackTiming.AFTER_CLOSE:
        after = submitted and quiz.closes_at is not None and now >= quiz.closes_at
        return Visibility(feedback=after, keys=after)
    if quiz.feedback_timing == Quiz.FeedbackTiming.IMMEDIATE:
        return Visibility(feedback=True, keys=submitted)
    return Visibility(feedback=submitted, keys=submitted)


def stable_int(*parts: Any) -> int:
    """A 64-bit integer hash of the parts that is the same in every process and release."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


# --- Building quizzes --------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionSpec:
    """A section as given to `quiz_create`: `questions` (slugs) for a theory pool, or `kind` and
    `difficulty` for a numeric one; `draw` questions are drawn, each worth `points`."""

    draw: int = 1
    points: float = 1.0
    title: str = ""
    questions: tuple[str, ...] = ()
    kind: str = ""
    difficulty: str = ""


MAX_SECTIONS = 20
MAX_DRAW = 50  # questions drawn per section: every attempt start makes its variants at once


def _check_section(spec: SectionSpec, index: int) -> list[Question]:
    where = f"Section {index + 1}"
    if not 1 <= spec.draw <= MAX_DRAW:
        raise ServiceError(f"{where}: draw between 1 and {MAX_DRAW} questions.")
    if not (spec.points > 0) or spec.points > 1000:
        raise ServiceError(f"{where}: points must be more than 0 and at most 1000.")
    if bool(spec.kind) == bool(spec.questions):
        raise ServiceError(f"{where}: give either bank questions or a problem kind, not both or neither.")
    if spec.kind:
        services._known_kind(spec.kind, spec.difficulty or "medium")
        return []
    if spec.difficulty:
        raise ServiceError(f"{where}: a difficulty is for a problem kind; bank questions have their own.")
    slugs = list(dict.fromkeys(spec.questions))
    published = {
        v.question.slug: v.question
        for v in QuestionVersion.objects.filter(
            question__slug__in=slugs, status=QuestionVersion.Status.PUBLISHED
        )
        .exclude(data__type="essay")
        .select_related("question")
    }
    missing = [s for s in slugs if s not in published]
    if missing:
        raise ServiceError(
            f"{where}: no published, automatically graded question {', '.join(repr(s) for s in missing)}."
        )
    if spec.draw > len(slugs):
        raise ServiceError(f"{where}: cannot draw {spec.draw} of {len(slugs)} questions.")
    return [published[s] for s in slugs]


def quiz_create(
    *,
    course: Course,
    actor,
    title: str,
    sections: Sequence[SectionSpec],
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    time_limit_seconds: int | None = None,
    attempts_allowed: int = 1,
    grading_method: str = Quiz.GradingMethod.HIGHEST,
    penalty: float = 0.0,
    feedback_timing: str = Quiz.FeedbackTiming.AFTER_SUBMISSION,
    shuffle: bool = False,
    certainty_based_marking: bool = False,
) -> Quiz:
    """A draft quiz with its sections (instructors only). Everything is checked before anything
    is stored; a refused quiz stores nothing."""
    require_role(course=course, user=actor, roles=(Membership.Role.INSTRUCTOR,))
    title = (title or "").strip()
    if not title:
        raise ServiceError("A quiz needs a title.")
    if not sections:
        raise ServiceError("A quiz needs at least one section.")
    if len(sections) > MAX_SECTIONS:
        raise ServiceError(f"A quiz has at most {MAX_SECTIONS} sections.")
    if opens_at and closes_at and closes_at <= opens_at:
        raise ServiceError("The quiz must close after it opens.")
    if closes_at and closes_at <= timezone.now():
        raise ServiceError("The close time has already passed: nobody could take the quiz.")
    if time_limit_seconds is not None and not (1 <= time_limit_seconds <= 7 * 24 * 3600):
        raise ServiceError("The time limit must be between 1 second and 7 days.")
    if not (0.0 <= penalty <= 1.0):
        raise ServiceError("The penalty per retry is a fraction between 0 and 1.")
    if penalty and feedback_timing != Quiz.FeedbackTiming.IMMEDIATE:
        raise ServiceError(
            "A penalty per retry needs immediate feedback: without it a learner never learns that a "
            "try was wrong, so changing an answer is free."
        )
    if attempts_allowed < 0:
        raise ServiceError("Attempts allowed must be 0 (no limit) or more.")
    if grading_method not in Quiz.GradingMethod.values:
        raise ServiceError(f"Unknown grading method {grading_method!r}.")
    if feedback_timing not in Quiz.FeedbackTiming.values:
        raise ServiceError(f"Unknown feedback timing {feedback_timing!r}.")
    if feedback_timing == Quiz.FeedbackTiming.AFTER_CLOSE and closes_at is None:
        raise ServiceError("Feedback after the quiz closes needs a close time.")
    pools = [_check_section(spec, i) for i, spec in enumerate(sections)]
    with transaction.atomic():
        quiz = Quiz.objects.create(
            course=course,
            title=title,
            opens_at=opens_at,
            closes_at=closes_at,
            time_limit_seconds=time_limit_seconds,
            attempts_allowed=attempts_allowed,
            grading_method=grading_method,
            penalty=penalty,
            feedback_timing=feedback_timing,
            shuffle=shuffle,
            certainty_based_marking=certainty_based_marking,
            created_by=actor,
        )
        for position, (spec, pool) in enumerate(zip(sections, pools, strict=True)):
            section = QuizSection.objects.create(
                quiz=quiz,
                position=position,
                title=spec.title,
                kind=spec.kind,
                difficulty=(spec.difficulty or "medium") if spec.kind else "",
                draw_count=spec.draw,
                points=spec.points,
            )
            if pool:
                section.questions.set(pool)
    return quiz


def quiz_open(*, quiz: Quiz, actor) -> Quiz:
    """Let learners take the quiz (instructors only). Opening an open quiz changes nothing."""
    require_role(course=quiz.course, user=actor, roles=(Membership.Role.INSTRUCTOR,))
    Quiz.objects.filter(id=quiz.id, state=Quiz.State.DRAFT).update(state=Quiz.State.OPEN)
    quiz.refresh_from_db(fields=["state"])
    return quiz


def quiz_close_now(*, quiz: Quiz, actor, now: datetime | None = None) -> Quiz:
    """Close an open quiz now (instructors only): no new attempts, and attempts in progress are
    submitted now, as at any deadline. Closing a closed quiz changes nothing."""
    require_role(course=quiz.course, user=actor, roles=(Membership.Role.INSTRUCTOR,))
    if quiz.state != Quiz.State.OPEN:
        raise ServiceError("Only an open quiz can be closed: this one is still a draft.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Quiz.objects.select_for_update().get(id=quiz.id)
        if locked.closes_at is None or locked.closes_at > now:
            locked.closes_at = now
            locked.save(update_fields=["closes_at"])
            running = locked.attempts.filter(state=QuizAttempt.State.IN_PROGRESS)
            running.filter(Q(deadline__isnull=True) | Q(deadline__gt=now)).update(deadline=now)
    attempts_close_overdue(now=now, attempts=quiz.attempts.all())
    quiz.refresh_from_db(fields=["closes_at"])
    return quiz


def quiz_max_score(quiz: Quiz) -> float:
    return sum(s.points * s.draw_count for s in quiz.sections.all())


# --- Reads with permissions --------------------------------------------------------------------


def quiz_for(*, user, quiz_id: int, roles=tuple(Membership.Role.values)) -> Quiz:
    """The quiz if the user has one of `roles` in its course (404 for strangers, 403 for the
    wrong role). Learners do not see draft quizzes (404)."""
    quiz = Quiz.objects.select_related("course").filter(id=quiz_id).first()
    if quiz is None:
        raise Http404("No such quiz.")
    role = require_role(course=quiz.course, user=user, roles=roles)
    if role == Membership.Role.LEARNER and quiz.state != Quiz.State.OPEN:
        raise Http404("No such quiz.")
    return quiz


def quizzes_for(*, user, course: Course):
    """The course's quizzes the user may see: all for staff, the open ones for learners."""
    role = require_role(course=course, user=user, roles=tuple(Membership.Role.values))
    quizzes = course.quizzes.all().prefetch_related("sections__questions")
    if role == Membership.Role.LEARNER:
        quizzes = quizzes.filter(state=Quiz.State.OPEN)
    return quizzes


def attempt_for(*, user, attempt_id: int) -> QuizAttempt:
    """An attempt its learner, or the course's instructors and TAs, may read (404 otherwise).

    An attempt past its deadline is submitted at the deadline first, so every read is current.
    """
    attempt = QuizAttempt.objects.select_related("quiz__course").filter(id=attempt_id).first()
    if attempt is None:
        raise Http404("No such attempt.")
    if attempt.learner_id != user.id:
        try:
            require_role(course=attempt.quiz.course, user=user, roles=STAFF_ROLES)
        except PermissionDenied:
            raise Http404("No such attempt.") from None
    return attempt_expire_if_overdue(attempt=attempt)


def attempts_of(*, learner, quiz: Quiz):
    return QuizAttempt.objects.filter(quiz=quiz, learner=learner).order_by("number")


# --- Attempts ----------------------------------------------------------------------------------


def attempt_deadline(*, quiz: Quiz, started_at: datetime) -> datetime | None:
    ends = []
    if quiz.time_limit_seconds:
        ends.append(started_at + timedelta(seconds=quiz.time_limit_seconds))
    if quiz.closes_at:
        ends.append(quiz.closes_at)
    return min(ends) if ends else None


def variants_generate_for_seeds(*, kind: str, difficulty: str, seeds: Sequence[int]) -> list[int]:
    """Make (or find) the variant of each seed under the current engine (runs in the worker:
    it loads torch). Returns the variant ids in the order of `seeds`."""
    return [services.variant_for_seed(kind=kind, difficulty=difficulty, seed=seed)[0].id for seed in seeds]


def _claim_seeded_variant(*, kind: str, difficulty: str, base_seed: int, learner) -> PracticeItem:
    """The first seed from `base_seed` on whose variant nobody holds: claim it as a quiz item."""
    from .tasks import generate_seeded_variants

    seeds = [(base_seed + i) % SEED_SPACE for i in range(SEED_PROBES)]
    found = {
        v.seed: v
        for v in Variant.objects.filter(
            kind=kind, difficulty=difficulty, engine_version=ENGINE_VERSION, seed__in=seeds
        )
    }
    taken = set(
        PracticeItem.objects.filter(variant__in=found.values()).values_list("variant__seed", flat=True)
    )
    for seed in seeds:
        if seed in taken:
            continue
        if seed not in found:
            services.worker_result(
                generate_seeded_variants,
                kind=kind,
                difficulty=difficulty,
                seeds=[seed],
                unavailable="The problems of this quiz could not be prepared: the worker did not "
                "answer in time. Please try again in a moment.",
            )
        variant = Variant.objects.get(
            kind=kind, difficulty=difficulty, engine_version=ENGINE_VERSION, seed=seed
        )
        now = timezone.now()
        # A stock variant (claimed_at null) is taken over; one claimed by a concurrent request
        # has an item or is about to: skip to the next seed.
        Variant.objects.filter(id=variant.id, claimed_at__isnull=True).update(claimed_at=now)
        try:
            with transaction.atomic():
                return PracticeItem.objects.create(learner=learner, variant=variant, purpose=Purpose.QUIZ)
        except IntegrityError:
            continue
    raise ServiceUnavailable("No free problem variant was found for this quiz; please try again.")


def _draw_theory(*, quiz: Quiz, section: QuizSection, learner, number: int) -> list[QuestionVersion]:
    """`draw_count` current published versions of the pool, preferring questions this learner
    was not given in earlier attempts; order by the stable hash."""
    versions = list(
        QuestionVersion.objects.filter(
            question__in=section.questions.all(), status=QuestionVersion.Status.PUBLISHED
        ).select_related("question")
    )
    if len(versions) < section.draw_count:
        raise ServiceError("Some questions of this quiz are no longer published; tell your instructor.")
    earlier = set(
        AttemptSlot.objects.filter(
            attempt__quiz=quiz, attempt__learner=learner, section=section
        ).values_list("item__question_version__question_id", flat=True)
    )
    versions.sort(
        key=lambda v: (
            v.question_id in earlier,
            stable_int("draw", quiz.id, section.id, learner.id, number, v.question_id),
        )
    )
    return versions[: section.draw_count]


def attempt_start(*, quiz: Quiz, learner) -> QuizAttempt:
    """Start an attempt, or return the one in progress (a reload gives the same questions).

    Refused (400) before the window opens, after it closes, while the quiz is a draft (404) and
    when no attempts are left. Numeric slots get their seeded variants from the worker
    synchronously (503 if it does not answer).
    """
    require_role(course=quiz.course, user=learner, roles=(Membership.Role.LEARNER,))
    if quiz.state != Quiz.State.OPEN:
        raise Http404("No such quiz.")
    with transaction.atomic():
        # One start at a time per learner and course: the membership row is the lock.
        Membership.objects.select_for_update().get(course=quiz.course, user=learner)
        current = _running_attempt(quiz=quiz, learner=learner)
        if current is not None:
            return current
        now = timezone.now()
        if quiz.opens_at and now < quiz.opens_at:
            raise ServiceError(f"The quiz opens at {quiz.opens_at.isoformat()}.")
        if quiz.closes_at and now >= quiz.closes_at:
            raise AttemptClosed("The quiz is closed.")
        done = QuizAttempt.objects.filter(quiz=quiz, learner=learner).count()
        if quiz.attempts_allowed and done >= quiz.attempts_allowed:
            raise ServiceError(f"No attempts left: this quiz allows {quiz.attempts_allowed}.")
        return _attempt_create(quiz=quiz, learner=learner, number=done + 1, now=now)


def attempt_preview_start(*, quiz: Quiz, actor) -> QuizAttempt:
    """An instructor or TA takes their own quiz as a learner would, draft or open, at any time
    and as often as they like: a preview attempt (variants drawn for them, time limit and
    feedback rules as for learners), never in the gradebook or the statistics. An unfinished
    preview is resumed."""
    require_role(course=quiz.course, user=actor, roles=STAFF_ROLES)
    with transaction.atomic():
        Membership.objects.select_for_update().get(course=quiz.course, user=actor)
        current = _running_attempt(quiz=quiz, learner=actor)
        if current is not None:
            return current
        done = QuizAttempt.objects.filter(quiz=quiz, learner=actor).count()
        return _attempt_create(quiz=quiz, learner=actor, number=done + 1, now=timezone.now(), preview=True)


def _running_attempt(*, quiz: Quiz, learner) -> QuizAttempt | None:
    """The learner's unfinished attempt of the quiz, unless its time is up (then it is
    submitted at its deadline and None is returned)."""
    current = QuizAttempt.objects.filter(quiz=quiz, learner=learner, state=QuizAttempt.State.IN_PROGRESS).first()
    if current is None:
        return None
    current = attempt_expire_if_overdue(attempt=current)
    return current if current.state == QuizAttempt.State.IN_PROGRESS else None


def _attempt_create(*, quiz: Quiz, learner, number: int, now: datetime, preview: bool = False) -> QuizAttempt:
    """The attempt and its slots, drawn deterministically from (quiz, slot, learner, number).
    Call inside the caller's transaction, with the learner's membership row locked."""
    sections = list(quiz.sections.order_by("position"))
    attempt = QuizAttempt.objects.create(
        quiz=quiz,
        learner=learner,
        number=number,
        started_at=now,
        deadline=attempt_deadline(quiz=quiz, started_at=now),
        max_score=sum(s.points * s.draw_count for s in sections),
        is_preview=preview,
    )
    drawn: list[tuple[QuizSection, PracticeItem]] = []
    slot = 0
    for section in sections:
        if section.is_numeric:
            for _ in range(section.draw_count):
                base = stable_int("seed", quiz.id, slot, learner.id, number) % SEED_SPACE
                item = _claim_seeded_variant(
                    kind=section.kind, difficulty=section.difficulty, base_seed=base, learner=learner
                )
                drawn.append((section, item))
                slot += 1
        else:
            for version in _draw_theory(quiz=quiz, section=section, learner=learner, number=number):
                item = PracticeItem.objects.create(
                    learner=learner, question_version=version, purpose=Purpose.QUIZ
                )
                drawn.append((section, item))
                slot += 1
    order = list(range(len(drawn)))
    if quiz.shuffle:
        order.sort(key=lambda s: stable_int("position", quiz.id, learner.id, number, s))
    positions = {s: p for p, s in enumerate(order)}
    AttemptSlot.objects.bulk_create(
        AttemptSlot(
            attempt=attempt, slot=s, position=positions[s], section=section, item=item, points=section.points
        )
        for s, (section, item) in enumerate(drawn)
    )
    return attempt


def attempt_expire_if_overdue(*, attempt: QuizAttempt, now: datetime | None = None) -> QuizAttempt:
    """Submit an in-progress attempt at its deadline if the deadline has passed; else nothing."""
    now = now or timezone.now()
    if attempt.state != QuizAttempt.State.IN_PROGRESS or attempt.deadline is None or now < attempt.deadline:
        return attempt
    return _attempt_finish(attempt_id=attempt.id, at=attempt.deadline, by=QuizAttempt.SubmittedBy.DEADLINE)


def attempts_close_overdue(
    *, now: datetime | None = None, limit: int = 500, attempts: QuerySet[QuizAttempt] | None = None
) -> list[int]:
    """Submit every in-progress attempt whose deadline has passed (the beat task; the staff's
    reads also run it on their own quiz or course's `attempts`, so a gradebook never waits for
    beat). Returns the ids it submitted; a second run finds none of them."""
    now = now or timezone.now()
    attempts = QuizAttempt.objects.all() if attempts is None else attempts
    ids = list(
        attempts.filter(state=QuizAttempt.State.IN_PROGRESS, deadline__lte=now)
        .order_by("deadline")
        .values_list("id", flat=True)[:limit]
    )
    closed = []
    for attempt_id in ids:
        attempt = QuizAttempt.objects.get(id=attempt_id)
        if attempt.state == QuizAttempt.State.IN_PROGRESS:
            _attempt_finish(attempt_id=attempt_id, at=attempt.deadline, by=QuizAttempt.SubmittedBy.DEADLINE)
            closed.append(attempt_id)
    return closed


def attempt_submit(*, attempt: QuizAttempt, learner) -> QuizAttempt:
    """The learner hands the attempt in. Submitting twice changes nothing; an attempt past its
    deadline is recorded as submitted at the deadline, not now."""
    if attempt.learner_id != learner.id:
        raise Http404("No such attempt.")
    attempt = attempt_expire_if_overdue(attempt=attempt)
    if attempt.state == QuizAttempt.State.SUBMITTED:
        return attempt
    return _attempt_finish(attempt_id=attempt.id, at=timezone.now(), by=QuizAttempt.SubmittedBy.LEARNER)


def _attempt_finish(*, attempt_id: int, at: datetime, by: str) -> QuizAttempt:
    with transaction.atomic():
        attempt = QuizAttempt.objects.select_for_update().select_related("quiz").get(id=attempt_id)
        if attempt.state == QuizAttempt.State.SUBMITTED:
            return attempt  # someone else (the beat task, another request) got here first
        attempt.state = QuizAttempt.State.SUBMITTED
        attempt.submitted_at = at
        attempt.submitted_by = by
        attempt.save(update_fields=["state", "submitted_at", "submitted_by"])
        attempt_refresh_marks(attempt)
    return attempt


# --- Answers and marks -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerAccepted:
    answer: QuizAnswer
    created: bool


def answer_submit(
    *,
    attempt: QuizAttempt,
    learner,
    position: int,
    answer: dict[str, Any],
    certainty: int | None = None,
    idempotency_key: str | None = None,
) -> AnswerAccepted:
    """A try at the slot shown at `position`: stored pending and graded by the worker.

    The same Idempotency-Key again returns the first try (even after the deadline). Refused
    without storing anything: an attempt that is over (`AttemptClosed`), an unreadable answer
    (`AnswerFormatError`, costs no try), a missing certainty on a CBM quiz, a slot already
    answered right under immediate feedback.
    """
    if attempt.learner_id != learner.id:
        raise Http404("No such attempt.")
    slot = (
        AttemptSlot.objects.select_related("item__variant", "item__question_version")
        .filter(attempt=attempt, position=position)
        .first()
    )
    if slot is None:
        raise Http404("No such question in this attempt.")
    if idempotency_key:
        replay = QuizAnswer.objects.filter(
            submission__learner=learner, submission__idempotency_key=idempotency_key
        ).first()
        if replay is not None:
            if replay.slot_id != slot.id:
                raise ServiceError("This Idempotency-Key was already used for another answer.")
            return AnswerAccepted(replay, created=False)
        if Submission.objects.filter(learner=learner, idempotency_key=idempotency_key).exists():
            raise ServiceError("This Idempotency-Key was already used for another answer.")
    quiz = attempt.quiz
    if quiz.certainty_based_marking:
        if certainty not in CBM_RIGHT:
            raise ServiceError("This quiz uses certainty-based marking: give a certainty of 1, 2 or 3.")
    elif certainty is not None:
        raise ServiceError("This quiz does not use certainty-based marking: leave certainty out.")
    attempt_expire_if_overdue(attempt=attempt)
    with transaction.atomic():
        locked = QuizAttempt.objects.select_for_update().get(id=attempt.id)
        overdue = locked.deadline is not None and timezone.now() >= locked.deadline
        if locked.submitted_by == QuizAttempt.SubmittedBy.DEADLINE or overdue:
            raise AttemptClosed("Time is up: the attempt was submitted at its deadline. This answer was not stored.")
        if locked.state != QuizAttempt.State.IN_PROGRESS:
            raise AttemptClosed("This attempt is already submitted. The answer was not stored.")
        if quiz.feedback_timing == Quiz.FeedbackTiming.IMMEDIATE:
            last = slot.answers.select_related("submission").filter(
                submission__status=Submission.Status.GRADED
            ).last()
            if last is not None and _answer_fraction(last) >= 1.0:
                raise ServiceError("This question is already answered correctly.")
        created = services.submission_create(
            learner=learner, item=slot.item, answer=answer, idempotency_key=idempotency_key
        )
        quiz_answer, made = QuizAnswer.objects.get_or_create(
            submission=created.submission, defaults={"slot": slot, "certainty": certainty}
        )
        if made:
            slot.mark = None  # a try is pending: the slot's mark is not known until it is graded
            slot.save(update_fields=["mark"])
    return AnswerAccepted(quiz_answer, created=made)


def _answer_fraction(answer: QuizAnswer) -> float:
    if answer.regraded_score is not None:
        return answer.regraded_score
    return answer.submission.score or 0.0


def slot_fraction(*, quiz: Quiz, answers: Sequence[QuizAnswer]) -> float | None:
    """How right a slot's counted answer is, in [0, 1], after any retry penalty and before
    certainty-based marking; None while a try is pending or nothing is graded."""
    if any(a.submission.status == Submission.Status.PENDING for a in answers):
        return None
    graded = [a for a in answers if a.submission.status == Submission.Status.GRADED]
    if not graded:
        return None
    return try_fraction(
        [_answer_fraction(a) for a in graded],
        penalty=quiz.penalty,
        immediate=quiz.feedback_timing == Quiz.FeedbackTiming.IMMEDIATE,
    )


def slot_mark(*, quiz: Quiz, slot: AttemptSlot, answers: Sequence[QuizAnswer], submitted: bool) -> float | None:
    """The slot's mark in points from its tries (oldest first), or None while it is not known
    (a try is still being graded, or the attempt is in progress and nothing is graded yet).
    Invalid tries (unreadable answers) are not tries: they cost nothing."""
    if any(a.submission.status == Submission.Status.PENDING for a in answers):
        return None
    graded = [a for a in answers if a.submission.status == Submission.Status.GRADED]
    if not graded:
        return 0.0 if submitted else None
    fractions = [_answer_fraction(a) for a in graded]
    fraction = slot_fraction(quiz=quiz, answers=graded)
    if quiz.certainty_based_marking:
        # The last try is marked at its certainty; the retry penalty (what try_fraction took off)
        # only takes from a positive mark, down to 0, so a right answer after a wrong one never
        # scores below the wrong one did.
        mark = slot.points * cbm_score(fractions[-1], graded[-1].certainty or 1) / 3.0
        return max(0.0, mark - slot.points * (fractions[-1] - fraction)) if mark > 0 else mark
    return slot.points * fraction


def attempt_refresh_marks(attempt: QuizAttempt) -> None:
    """Recompute every slot's mark and, once the attempt is submitted and every mark is known,
    its score. Call with the attempt row locked."""
    quiz = attempt.quiz
    submitted = attempt.state == QuizAttempt.State.SUBMITTED
    slots = list(attempt.slots.prefetch_related("answers__submission"))
    for slot in slots:
        mark = slot_mark(quiz=quiz, slot=slot, answers=list(slot.answers.all()), submitted=submitted)
        if mark != slot.mark:
            slot.mark = mark
            slot.save(update_fields=["mark"])
    marks = [s.mark for s in slots]
    score = sum(marks) if submitted and all(m is not None for m in marks) else None
    if score != attempt.score:
        attempt.score = score
        attempt.save(update_fields=["score"])


def quiz_item_graded(*, item_id: int) -> None:
    """Hook for `services.submission_grade`: a quiz item's try was graded; update the marks."""
    slot = AttemptSlot.objects.filter(item_id=item_id).only("attempt_id").first()
    if slot is None:
        return
    with transaction.atomic():
        attempt = QuizAttempt.objects.select_for_update().select_related("quiz").get(id=slot.attempt_id)
        attempt_refresh_marks(attempt)
