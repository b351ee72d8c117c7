"""Courses' writes from the web: courses and members, quizzes, attempts, answers, regrade start.

Every function is keyword-only, runs in a transaction and is safe to repeat."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from attention_engine import ENGINE_VERSION
from questions.catalogue.models import Question, QuestionVersion
from questions.courses.jobs import (
    attempt_expire_if_overdue,
    attempt_finish,
    attempts_close_overdue,
)
from questions.courses.models import (
    AttemptSlot,
    Course,
    Membership,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    QuizSection,
    RegradeRun,
)
from questions.courses.rules import (
    CBM_RIGHT,
    MAX_ATTEMPTS,
    MAX_DRAW,
    MAX_POINTS,
    MAX_SECTIONS,
    MAX_TIME_LIMIT_SECONDS,
    MAX_TITLE_LENGTH,
    MIN_POINTS,
    SEED_PROBES,
    SEED_SPACE,
    STAFF_ROLES,
    SectionSpec,
    answer_fraction,
    attempt_deadline,
    is_overdue,
    new_join_code,
    normalise_join_code,
    numeric_slot_seeds,
    stable_int,
)
from questions.courses.selectors import questions_for_course, require_role
from questions.courses.tasks import enqueue_prepare, enqueue_regrade
from questions.errors import AttemptClosed, Preparing, ServiceError, ServiceUnavailable
from questions.practice.models import PracticeItem, Purpose, Submission, Variant
from questions.practice.rules import check_kind
from questions.practice.services import drafts_checked_by, submission_create
from questions.practice.tasks import (
    enqueue_seeded_variants,
    generate_seeded_variants,
    worker_result,
)
from questions.roles import is_instructor

log = logging.getLogger(__name__)


def course_create(*, title: str, instructor) -> Course:
    """A new course with a fresh join code; `instructor` becomes its instructor."""
    if not is_instructor(instructor):
        raise PermissionDenied("Only instructors can create courses.")
    title = (title or "").strip()
    if not title:
        raise ServiceError("A course needs a title.")
    for _ in range(10):
        try:
            with transaction.atomic():
                course = Course.objects.create(title=title, join_code=new_join_code(), created_by=instructor)
                Membership.objects.create(course=course, user=instructor, role=Membership.Role.INSTRUCTOR)
                return course
        except IntegrityError:
            continue  # the code was taken (about 1 in 1e11 per course): draw another
    raise ServiceError("Could not find a free join code; please try again.")


def course_join(*, user, code: str) -> Membership:
    """Join the course with this code as a learner. Joining again returns the same membership
    (whatever role the user already has there)."""
    course = Course.objects.filter(join_code=normalise_join_code(code)).first()
    if course is None:
        raise ServiceError("No course has this join code. Check it with your instructor.")
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            course=course, user=user, defaults={"role": Membership.Role.LEARNER}
        )
        if created:  # a late joiner's variants of the open quizzes are made as they join
            for quiz_id in course.quizzes.filter(state=Quiz.State.OPEN).values_list("id", flat=True):
                transaction.on_commit(lambda q=quiz_id: enqueue_prepare(q, [user.id]))
    return membership


def membership_set(*, course: Course, actor, user, role: str) -> Membership:
    """Give `user` a role in the course (instructor only); changing an existing role is allowed,
    except that the last instructor cannot step down."""
    require_role(course=course, user=actor, roles=(Membership.Role.INSTRUCTOR,))
    if role not in Membership.Role.values:
        raise ServiceError(f"Unknown role {role!r}: use one of {', '.join(Membership.Role.values)}.")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(course=course, user=user).first()
        if membership is None:
            return Membership.objects.create(course=course, user=user, role=role)
        if membership.role == role:
            return membership
        if (
            membership.role == Membership.Role.INSTRUCTOR
            and course.memberships.filter(role=Membership.Role.INSTRUCTOR).count() == 1
        ):
            raise ServiceError("A course needs at least one instructor.")
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def _check_section(spec: SectionSpec, index: int, *, course: Course) -> list[Question]:
    where = f"Section {index + 1}"
    if not 1 <= spec.draw <= MAX_DRAW:
        raise ServiceError(f"{where}: draw between 1 and {MAX_DRAW} questions.")
    if not MIN_POINTS <= spec.points <= MAX_POINTS:
        raise ServiceError(f"{where}: points must be between {MIN_POINTS:g} and {MAX_POINTS:g}.")
    if bool(spec.kind) == bool(spec.questions):
        raise ServiceError(f"{where}: give either bank questions or a problem kind, not both or neither.")
    if spec.kind:
        check_kind(spec.kind, spec.difficulty or "medium")
        return []
    if spec.difficulty:
        raise ServiceError(f"{where}: a difficulty is for a problem kind; bank questions have their own.")
    slugs = list(dict.fromkeys(spec.questions))
    published = {
        v.question.slug: v.question
        for v in QuestionVersion.objects.filter(
            question__in=Question.objects.filter(questions_for_course(course)),
            question__slug__in=slugs,
            status=QuestionVersion.Status.PUBLISHED,
        )
        .exclude(data__type="essay")
        .select_related("question")
    }
    missing = [s for s in slugs if s not in published]
    if missing:
        raise ServiceError(
            f"{where}: no published, automatically graded question {', '.join(repr(s) for s in missing)}"
            " in the public bank or this course."
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
    if len(title) > MAX_TITLE_LENGTH:
        raise ServiceError(f"A quiz title has at most {MAX_TITLE_LENGTH} characters.")
    if not sections:
        raise ServiceError("A quiz needs at least one section.")
    if len(sections) > MAX_SECTIONS:
        raise ServiceError(f"A quiz has at most {MAX_SECTIONS} sections.")
    if opens_at and closes_at and closes_at <= opens_at:
        raise ServiceError("The quiz must close after it opens.")
    if closes_at and closes_at <= timezone.now():
        raise ServiceError("The close time has already passed: nobody could take the quiz.")
    if time_limit_seconds is not None and not (1 <= time_limit_seconds <= MAX_TIME_LIMIT_SECONDS):
        raise ServiceError(f"The time limit must be between 1 second and {MAX_TIME_LIMIT_SECONDS // 86400} days.")
    if not (0.0 <= penalty <= 1.0):
        raise ServiceError("The penalty per retry is a fraction between 0 and 1.")
    if penalty and feedback_timing != Quiz.FeedbackTiming.IMMEDIATE:
        raise ServiceError(
            "A penalty per retry needs immediate feedback: without it a learner never learns that a "
            "try was wrong, so changing an answer is free."
        )
    if not 0 <= attempts_allowed <= MAX_ATTEMPTS:
        raise ServiceError(f"Attempts allowed must be 0 (no limit) to {MAX_ATTEMPTS}.")
    if grading_method not in Quiz.GradingMethod.values:
        raise ServiceError(f"Unknown grading method {grading_method!r}.")
    if feedback_timing not in Quiz.FeedbackTiming.values:
        raise ServiceError(f"Unknown feedback timing {feedback_timing!r}.")
    if feedback_timing == Quiz.FeedbackTiming.AFTER_CLOSE and closes_at is None:
        raise ServiceError("Feedback after the quiz closes needs a close time.")
    pools = [_check_section(spec, i, course=course) for i, spec in enumerate(sections)]
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


def sections_pin(*, quiz: Quiz) -> None:
    """Pin every theory section to the questions' current published versions: attempts draw
    those until the next pin, whatever authors publish meanwhile (`QuizSection.pinned_versions`)."""
    for section in quiz.sections.exclude(kind__gt=""):
        section.pinned_versions.set(
            QuestionVersion.objects.filter(
                question__in=section.questions.all(), status=QuestionVersion.Status.PUBLISHED
            )
        )


def quiz_open(*, quiz: Quiz, actor) -> Quiz:
    """Let learners take the quiz (instructors only), pinned to the question versions published
    now; a later version reaches it only through a regrade. Opening an open quiz changes nothing."""
    require_role(course=quiz.course, user=actor, roles=(Membership.Role.INSTRUCTOR,))
    with transaction.atomic():
        if Quiz.objects.filter(id=quiz.id, state=Quiz.State.DRAFT).update(state=Quiz.State.OPEN):
            sections_pin(quiz=quiz)
            # Every learner's variants are made now, in bulk on the worker: a start only reads.
            transaction.on_commit(lambda: enqueue_prepare(quiz.id))
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


def _require_prepared(slot_seeds: list[tuple[QuizSection, int, int]]) -> None:
    """The attempt's first-choice variants exist (made when the quiz opened or the learner joined),
    or else are asked of the worker now and the start refused for a moment (`Preparing`, 202):
    no request waits on a worker. Without a worker (embedded mode) they are made in-process."""
    kinds: dict[tuple[str, str], list[int]] = {}
    for section, _, seed in slot_seeds:
        kinds.setdefault((section.kind, section.difficulty), []).append(seed)
    missing = {}
    for (kind, difficulty), wanted in kinds.items():
        present = set(
            Variant.objects.filter(kind=kind, difficulty=difficulty, engine_version=ENGINE_VERSION, seed__in=wanted)
            .values_list("seed", flat=True)
        )
        if absent := [seed for seed in wanted if seed not in present]:
            missing[(kind, difficulty)] = absent
    if not missing:
        return
    for (kind, difficulty), absent in missing.items():
        if settings.CELERY_TASK_ALWAYS_EAGER:
            worker_result(generate_seeded_variants, kind=kind, difficulty=difficulty, seeds=absent,
                          unavailable="The problems of this quiz could not be prepared; please try again.")
        else:
            enqueue_seeded_variants(kind=kind, difficulty=difficulty, seeds=absent)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        raise Preparing("Your problems are being prepared; the attempt starts in a few seconds.")


def _claim_seeded_variant(*, kind: str, difficulty: str, base_seed: int, learner) -> PracticeItem:
    """The first seed from `base_seed` on whose variant nobody holds: claim it as a quiz item."""
    seeds = [(base_seed + i) % SEED_SPACE for i in range(SEED_PROBES)]
    identity = {"kind": kind, "difficulty": difficulty, "engine_version": ENGINE_VERSION}
    # Ids and seeds only: a variant's data (its key and worked steps) is not needed to claim it.
    found = dict(Variant.objects.filter(**identity, seed__in=seeds).values_list("seed", "id"))
    taken = set(
        PracticeItem.objects.filter(variant_id__in=found.values()).values_list("variant__seed", flat=True)
    )
    for seed in seeds:
        if seed in taken:
            continue
        if seed not in found:  # the prepared seed is someone else's (rare): the next one is made now
            if not settings.CELERY_TASK_ALWAYS_EAGER:
                enqueue_seeded_variants(kind=kind, difficulty=difficulty, seeds=[seed])
                raise Preparing("Your problems are being prepared; the attempt starts in a few seconds.")
            worker_result(
                generate_seeded_variants,
                kind=kind,
                difficulty=difficulty,
                seeds=[seed],
                unavailable="The problems of this quiz could not be prepared; please try again.",
            )
        variant_id = found.get(seed) or Variant.objects.filter(**identity, seed=seed).values_list("id", flat=True).get()
        now = timezone.now()
        # A stock variant (claimed_at null) is taken over; one claimed by a concurrent request
        # has an item or is about to: skip to the next seed.
        Variant.objects.filter(id=variant_id, claimed_at__isnull=True).update(claimed_at=now)
        try:
            with transaction.atomic():
                return PracticeItem.objects.create(learner=learner, variant_id=variant_id, purpose=Purpose.QUIZ)
        except IntegrityError:
            continue
    raise ServiceUnavailable("No free problem variant was found for this quiz; please try again.")


def _draw_theory(*, quiz: Quiz, section: QuizSection, learner, number: int) -> list[QuestionVersion]:
    """`draw_count` versions of the pool, preferring questions this learner was not given in
    earlier attempts; order by the stable hash. An open quiz draws its pinned versions, a draft's
    preview the current published ones."""
    if quiz.state == Quiz.State.OPEN:
        versions = list(section.pinned_versions.select_related("question"))
    else:
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
    slot_seeds = numeric_slot_seeds(quiz_id=quiz.id, sections=sections, learner_id=learner.id, number=number)
    _require_prepared(slot_seeds)
    seeds = {slot: seed for _, slot, seed in slot_seeds}
    drawn: list[tuple[QuizSection, PracticeItem]] = []
    slot = 0
    for section in sections:
        if section.is_numeric:
            for _ in range(section.draw_count):
                item = _claim_seeded_variant(
                    kind=section.kind, difficulty=section.difficulty, base_seed=seeds[slot], learner=learner
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


def attempt_submit(*, attempt: QuizAttempt, learner) -> QuizAttempt:
    """The learner hands the attempt in. Submitting twice changes nothing; an attempt past its
    deadline is recorded as submitted at the deadline, not now."""
    if attempt.learner_id != learner.id:
        raise Http404("No such attempt.")
    attempt = attempt_expire_if_overdue(attempt=attempt)
    if attempt.state == QuizAttempt.State.SUBMITTED:
        return attempt
    finished = attempt_finish(attempt_id=attempt.id, at=timezone.now(), by=QuizAttempt.SubmittedBy.LEARNER)
    if not attempt.is_preview:  # the next attempt's variants, if one is allowed, are made now
        transaction.on_commit(lambda: enqueue_prepare(attempt.quiz_id, [learner.id]))
    return finished


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
            if last is not None and answer_fraction(last) >= 1.0:
                raise ServiceError("This question is already answered correctly.")
        created = submission_create(
            learner=learner, item=slot.item, answer=answer, idempotency_key=idempotency_key
        )
        quiz_answer, made = QuizAnswer.objects.get_or_create(
            submission=created.submission, defaults={"slot": slot, "certainty": certainty}
        )
        if made:
            slot.mark = None  # a try is pending: the slot's mark is not known until it is graded
            slot.save(update_fields=["mark"])
    return AnswerAccepted(quiz_answer, created=made)


@drafts_checked_by(Purpose.QUIZ)
def quiz_draft_refusal(item: PracticeItem, now: datetime) -> str | None:
    """Why a draft of a quiz question is not kept: its attempt is over (submitted or out of
    time). Locks the attempt row, so that a draft is stored before the attempt ends, or not."""
    slot = AttemptSlot.objects.filter(item=item).only("attempt_id").first()
    if slot is None:
        return "This question is not part of an attempt."
    attempt = QuizAttempt.objects.select_for_update().get(id=slot.attempt_id)
    if attempt.state != QuizAttempt.State.IN_PROGRESS or is_overdue(attempt, now):
        return "This attempt is over: nothing more is kept for it."
    return None


def regrade_start(*, quiz: Quiz, user) -> RegradeRun:
    """Record a regrade and have the worker apply it in batches (instructors only). The quiz
    moves to the current versions: attempts started from now on draw them too."""
    require_role(course=quiz.course, user=user, roles=(Membership.Role.INSTRUCTOR,))
    with transaction.atomic():
        if quiz.state == Quiz.State.OPEN:
            sections_pin(quiz=quiz)
        run = RegradeRun.objects.create(
            quiz=quiz, requested_by=user, slots_total=AttemptSlot.objects.filter(attempt__quiz=quiz).count()
        )
        transaction.on_commit(lambda: enqueue_regrade(run.id))
    return run


