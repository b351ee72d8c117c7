"""Reads of courses, each checking the reader's role (404 for strangers, 403 for the wrong role).

They never write: an attempt past its deadline is shown as submitted at it (`attempt_as_of`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils import timezone

from attention_engine import ENGINE_VERSION
from attention_engine import api as engine
from questions.catalogue.models import Question, QuestionVersion
from questions.catalogue.visibility import register_withholder
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
    STAFF_ROLES,
    Gradebook,
    GradebookRow,
    Visibility,
    attempt_marks,
    feedback_visible,
    grade_of_attempts,
    is_overdue,
    slot_fraction,
    slot_mark,
)
from questions.courses.statistics import item_statistics
from questions.errors import AttemptClosed
from questions.practice.models import Submission
from questions.practice.rules import grade_item_response, kind_titles

log = logging.getLogger(__name__)


def role_in(*, course: Course, user) -> str | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(course=course, user=user).values_list("role", flat=True).first()


def require_role(*, course: Course, user, roles) -> str:
    """The user's role if it is one of `roles`; 404 for a stranger, 403 for the wrong role."""
    role = role_in(course=course, user=user)
    if role is None:
        raise Http404("No such course.")
    if role not in roles:
        raise PermissionDenied("Your role in this course does not allow this.")
    return role


def course_for(*, user, course_id: int, roles=tuple(Membership.Role.values)) -> Course:
    """The course if the user has one of `roles` in it (404 for strangers, 403 for other roles)."""
    course = Course.objects.filter(id=course_id).first()
    if course is None:
        raise Http404("No such course.")
    require_role(course=course, user=user, roles=roles)
    return course


def courses_of(*, user):
    """Every course the user has a role in, each annotated with `role`."""
    return (
        Course.objects.filter(memberships__user=user)
        .annotate(role=F("memberships__role"))
        .order_by("title", "id")
    )


PUBLIC_BANK = "public"


def question_owners(*, user) -> list[tuple[str, str]]:
    """Where the user may write questions, as (owner key, label): the public bank for site staff,
    then each course the user is an instructor of (its id)."""
    owners = [(PUBLIC_BANK, "Public bank (every learner's practice)")] if user.is_staff else []
    taught = Course.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.INSTRUCTOR
    ).order_by("title", "id")
    return owners + [(str(c.id), f"Course: {c.title}") for c in taught]


def question_owner_for(*, user, key: str) -> Course | None:
    """The owner `key` names (None: the public bank), if the user may write for it; else 403."""
    allowed = dict(question_owners(user=user))
    if key not in allowed:
        raise PermissionDenied(
            "You can write only the questions of courses you teach"
            + (" and of the public bank." if user.is_staff else "; the public bank is edited by site staff.")
        )
    return None if key == PUBLIC_BANK else Course.objects.get(id=int(key))


def question_owner_key(question) -> str:
    return PUBLIC_BANK if question.owner_id is None else str(question.owner_id)


def questions_writable(*, user):
    """Filter for questions (`Question`) the user may edit: their courses', the bank's for staff."""
    taught = Membership.objects.filter(user=user, role=Membership.Role.INSTRUCTOR).values("course_id")
    condition = Q(owner__in=taught)
    return condition | Q(owner__isnull=True) if user.is_staff else condition


def question_writable(*, user, question: Question) -> bool:
    return Question.objects.filter(questions_writable(user=user), id=question.id).exists()


def questions_readable(*, user):
    """Filter for questions an author may read and export: the public bank and the questions of
    the courses they teach."""
    return Q(owner__isnull=True) | questions_writable(user=user)


def questions_for_course(course: Course):
    """Filter for questions the quizzes of `course` may draw: the public bank and its own."""
    return Q(owner__isnull=True) | Q(owner=course)


def quizzes_attemptable(*, now: datetime):
    """Quizzes a learner can still start or continue: open, and not past their close time."""
    return Quiz.objects.filter(state=Quiz.State.OPEN).filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))


@register_withholder
def withheld_questions(*, learner, now: datetime, except_quiz_id: int | None = None):
    """The ids of questions drawn by a quiz of a course the user learns in, while that quiz can
    still be attempted (`questions.catalogue.visibility`): they stay out of practice, reviews
    and mock interviews until it closes. `except_quiz_id`: that quiz's own draws do not count."""
    quizzes = quizzes_attemptable(now=now).filter(
        course__memberships__user=learner, course__memberships__role=Membership.Role.LEARNER
    )
    if except_quiz_id is not None:
        quizzes = quizzes.exclude(id=except_quiz_id)
    return Question.objects.filter(quiz_sections__quiz__in=quizzes).values("id")


def quiz_max_score(quiz: Quiz) -> float:
    return sum(s.points * s.draw_count for s in quiz.sections.all())


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

    An attempt past its deadline reads as submitted at the deadline (`attempt_as_of`).
    """
    attempt = QuizAttempt.objects.select_related("quiz__course").filter(id=attempt_id).first()
    if attempt is None:
        raise Http404("No such attempt.")
    if attempt.learner_id != user.id:
        try:
            require_role(course=attempt.quiz.course, user=user, roles=STAFF_ROLES)
        except PermissionDenied:
            raise Http404("No such attempt.") from None
    return attempt_as_of(attempt)


def attempt_as_of(attempt: QuizAttempt, *, now: datetime | None = None) -> QuizAttempt:
    """The attempt as it stands now, computed without writing: one past its deadline reads as
    submitted at the deadline, with the marks it has then (`rules.attempt_marks`), which is what
    the beat task or the next write stores. The in-memory object is changed, never saved."""
    if not is_overdue(attempt, now or timezone.now()):
        return attempt
    attempt.state = QuizAttempt.State.SUBMITTED
    attempt.submitted_at = attempt.deadline
    attempt.submitted_by = QuizAttempt.SubmittedBy.DEADLINE
    slots = list(attempt.slots.all())
    marks, attempt.score = attempt_marks(quiz=attempt.quiz, slots=slots, submitted=True)
    for slot, mark in zip(slots, marks, strict=True):
        slot.mark = mark
    return attempt


def attempts_as_of(attempts: QuerySet[QuizAttempt], *, now: datetime | None = None) -> list[QuizAttempt]:
    """`attempt_as_of` over a query, loading slots and answers only for the overdue attempts."""
    now = now or timezone.now()
    rows = list(attempts.select_related("quiz"))
    overdue = [a for a in rows if is_overdue(a, now)]
    prefetch_related_objects(overdue, "slots__answers__submission")
    return [attempt_as_of(a, now=now) for a in rows]


def attempts_of(*, learner, quiz: Quiz):
    return QuizAttempt.objects.filter(quiz=quiz, learner=learner).order_by("number")


def gradebook_for(*, course: Course, user) -> Gradebook:
    """Learners x quizzes of the course (instructors and TAs). An attempt counts once it is
    submitted and every answer in it is graded; regraded attempts count with their new score."""
    require_role(course=course, user=user, roles=STAFF_ROLES)
    # Drafts have no attempts yet: a column of blanks would only be noise.
    quizzes = list(
        course.quizzes.exclude(state=Quiz.State.DRAFT).prefetch_related("sections").order_by("opens_at", "id")
    )
    learners = [
        m.user
        for m in course.memberships.filter(role=Membership.Role.LEARNER)
        .select_related("user")
        .order_by("user__username")
    ]
    scores: dict[tuple[int, int], list[float]] = defaultdict(list)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    last: dict[tuple[int, int], int] = {}
    for attempt_id, quiz_id, learner_id, score in (
        (a.id, a.quiz_id, a.learner_id, a.score)
        for a in attempts_as_of(
            QuizAttempt.objects.filter(quiz__course=course, is_preview=False).order_by("quiz_id", "learner_id", "number")
        )
    ):
        counts[(quiz_id, learner_id)] += 1
        last[(quiz_id, learner_id)] = attempt_id
        if score is not None:
            scores[(quiz_id, learner_id)].append(score)
    rows = [
        GradebookRow(
            learner=learner,
            grades=[grade_of_attempts(scores[(q.id, learner.id)], q.grading_method) for q in quizzes],
            attempts=[counts[(q.id, learner.id)] for q in quizzes],
            last_attempt_ids=[last.get((q.id, learner.id)) for q in quizzes],
        )
        for learner in learners
    ]
    return Gradebook(course=course, quizzes=quizzes, max_scores=[quiz_max_score(q) for q in quizzes], rows=rows)


@dataclass(frozen=True)
class SlotReview:
    slot: AttemptSlot
    answers: list[QuizAnswer]


@dataclass(frozen=True)
class AttemptReview:
    """An attempt as its learner saw it: slots in the order shown, every try in order, and what
    may be shown now (`visibility`: the quiz's feedback timing for the learner; everything for
    the course's instructors and TAs)."""

    attempt: QuizAttempt
    quiz: Quiz
    visibility: Visibility
    slots: list[SlotReview] = field(default_factory=list)
    by_staff: bool = False


def _keys_withheld_elsewhere(*, attempt: QuizAttempt, now: datetime) -> bool:
    """Whether a question of this (finished) attempt is drawn by *another* quiz its learner can
    still attempt: then the review keeps its keys back until that quiz closes, as practice does."""
    withheld = withheld_questions(learner=attempt.learner_id, now=now, except_quiz_id=attempt.quiz_id)
    return Question.objects.filter(id__in=withheld, versions__items__quiz_slot__attempt=attempt).exists()


def attempt_review(*, attempt: QuizAttempt, viewer, now: datetime | None = None) -> AttemptReview:
    """Review data for an attempt already fetched with `attempt_for` (which checked who
    may read it and closed it if overdue)."""
    quiz = attempt.quiz
    by_staff = attempt.learner_id != viewer.id
    visibility = Visibility(feedback=True, keys=True) if by_staff else feedback_visible(quiz=quiz, attempt=attempt, now=now)
    if visibility.keys and not by_staff and _keys_withheld_elsewhere(attempt=attempt, now=now or timezone.now()):
        visibility = Visibility(feedback=visibility.feedback, keys=False)
    slots = (
        attempt.slots.select_related(
            "section", "item__variant", "item__question_version__question__topic", "regraded_against"
        )
        .prefetch_related("answers__submission")
        .order_by("position")
    )
    return AttemptReview(
        attempt=attempt,
        quiz=quiz,
        visibility=visibility,
        slots=[SlotReview(slot=s, answers=list(s.answers.all())) for s in slots],
        by_staff=by_staff,
    )


def attempts_for_staff(*, quiz: Quiz, user):
    """Every learner's attempt of the quiz (instructors and TAs; not their previews), learner
    then number."""
    require_role(course=quiz.course, user=user, roles=STAFF_ROLES)
    return attempts_as_of(
        quiz.attempts.filter(is_preview=False).select_related("learner").order_by("learner__username", "number")
    )


def _slot_title(slot: AttemptSlot) -> str:
    """What instructors read for a drawn question: a theory question's title, a problem kind's
    title and difficulty (the label beside it stays the stable slug or kind)."""
    item = slot.item
    if item.is_numeric:
        return f"{kind_titles().get(item.variant.kind, item.variant.kind)} ({item.variant.difficulty})"
    return item.question_version.data.get("title") or item.question_version.question.slug


def _slot_label(slot: AttemptSlot) -> str:
    item = slot.item
    if item.is_numeric:
        return f"{item.variant.kind} ({item.variant.difficulty})"
    return item.question_version.question.slug


def _scalar_params(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in params.items()
        if v is None or isinstance(v, bool | int | float | str)
    }


def quiz_statistics(*, quiz: Quiz, user, first_attempts_only: bool = True) -> dict[str, Any]:
    """Item statistics of the quiz with Moodle's formulas (`statistics.item_statistics`).

    Rows are the scored attempts (first attempts only by default, Moodle's default); columns
    are, in three views:

    * `slots`: the quiz's slots (section order, then draw order), max mark = the slot's points;
    * `questions`: each drawn question of a pool (a theory question by slug; a numeric section
      as kind and difficulty), a cell None where the attempt did not draw it;
    * `quiz`: the test statistics of the slot view, with Cronbach's alpha.

    `accuracy_by_parameter`: for numeric sections, the mean fraction (how right the answer was)
    grouped by each scalar parameter of the variant (d_k, heads ...), with the number of answers.

    A cell is the slot's mark, except on a certainty-based quiz: there it is the points times how
    right the answer was (`slot_fraction`), so facility and discrimination measure the
    questions, not the learners' confidence (a CBM mark runs from -2x to 1x the points). A
    numeric section that draws several problems gives its drawn-question column the mean of
    them.
    """
    require_role(course=quiz.course, user=user, roles=STAFF_ROLES)
    now = timezone.now()
    attempts = [
        a
        for a in attempts_as_of(
            quiz.attempts.filter(
                Q(state=QuizAttempt.State.SUBMITTED) | Q(state=QuizAttempt.State.IN_PROGRESS, deadline__lte=now),
                is_preview=False,
            )
            .order_by("learner_id", "number")
            .prefetch_related(
                "slots__item__variant", "slots__item__question_version__question", "slots__section",
                "slots__answers__submission",
            ),
            now=now,
        )
        if a.score is not None
    ]
    is_first = [a.number == 1 for a in attempts]
    if first_attempts_only:
        attempts = [a for a, first in zip(attempts, is_first, strict=True) if first]
        is_first = [True] * len(attempts)
    sections = list(quiz.sections.order_by("position"))
    slot_points = [s.points for s in sections for _ in range(s.draw_count)]
    rows = []
    by_question: dict[tuple[int, str], dict[int, list[float | None]]] = {}
    question_points: dict[tuple[int, str], float] = {}
    titles: dict[tuple[int, str], str] = {}
    accuracy: dict[tuple[str, str, str], dict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row_index, attempt in enumerate(attempts):
        slots = sorted(attempt.slots.all(), key=lambda s: s.slot)
        fractions = [slot_fraction(quiz=quiz, answers=list(s.answers.all())) for s in slots]
        if quiz.certainty_based_marking:
            cells = [None if f is None else f * s.points for s, f in zip(slots, fractions, strict=True)]
        else:
            cells = [s.mark for s in slots]
        rows.append(cells)
        for slot, cell, fraction in zip(slots, cells, fractions, strict=True):
            key = (slot.section.position, _slot_label(slot))
            by_question.setdefault(key, {}).setdefault(row_index, []).append(cell)
            question_points[key] = slot.points
            titles[key] = _slot_title(slot)
            if slot.item.is_numeric and fraction is not None:
                variant = slot.item.variant
                for name, value in _scalar_params(variant.data.get("params", {})).items():
                    accuracy[(variant.kind, variant.difficulty, name)][value].append(fraction)

    def stats(matrix: Sequence[Sequence[float | None]], max_marks: Sequence[float]):
        return item_statistics(matrix, max_marks, is_first_attempt=is_first) if matrix else None

    slot_stats = stats(rows, slot_points)
    keys = sorted(by_question)
    question_matrix = [[_mean(by_question[k].get(i)) for k in keys] for i in range(len(attempts))]
    question_stats = stats(question_matrix, [question_points[k] for k in keys])
    labels = [
        {"slot": i, "section": s.position, "section_title": s.title, "label": s.kind or "theory pool",
         "title": kind_titles().get(s.kind, s.kind) if s.kind else "Theory pool"}
        for i, s in enumerate(s for s in sections for _ in range(s.draw_count))
    ]
    return {
        "attempts": "first" if first_attempts_only else "all",
        "attempt_count": len(attempts),
        "quiz": _quiz_level(slot_stats),
        "slots": [
            {**label, **q.to_dict()} for label, q in zip(labels, slot_stats.questions, strict=True)
        ]
        if slot_stats
        else [],
        "questions": [
            {"section": k[0], "label": k[1], "title": titles[k], **q.to_dict()}
            for k, q in zip(keys, question_stats.questions, strict=True)
        ]
        if question_stats
        else [],
        "accuracy_by_parameter": [
            {
                "kind": kind,
                "kind_title": kind_titles().get(kind, kind),
                "difficulty": difficulty,
                "parameter": name,
                "groups": [
                    {"value": value, "n": len(fractions), "mean_fraction": sum(fractions) / len(fractions)}
                    for value, fractions in sorted(groups.items(), key=lambda kv: (str(type(kv[0])), kv[0]))
                ],
            }
            for (kind, difficulty, name), groups in sorted(accuracy.items())
            if len(groups) > 1  # a parameter every variant shares says nothing
        ],
    }


def _mean(cells: list[float | None] | None) -> float | None:
    """One attempt's cell of a drawn question: the mean of its marks (None when not drawn)."""
    known = [c for c in cells or [] if c is not None]
    return sum(known) / len(known) if known else None


def _quiz_level(stats) -> dict[str, Any] | None:
    if stats is None:
        return None
    data = stats.to_dict()
    data.pop("questions")
    return data


@dataclass(frozen=True)
class RegradeChange:
    attempt_id: int
    attempt_number: int  # the learner's own count: their attempt 1, 2 ...
    learner: str
    slot: int
    position: int
    question: str
    old_mark: float | None
    new_mark: float | None
    against_version: int | None


@dataclass(frozen=True)
class RegradeBasis:
    """What a batch of slots is regraded against: each theory question's current published
    version, and each graded numeric try's new fraction, worked out for the whole batch."""

    versions: dict[int, QuestionVersion]  # question id -> current published version
    numeric: dict[int, float]  # QuizAnswer id -> fraction under the current engine


def regrade_basis(slots: Sequence[AttemptSlot]) -> RegradeBasis:
    """The basis of `slots` (prefetched as `regrade_slots` does): the current versions in one
    query, and every graded numeric try regraded in one call of the engine's `grade_batch`."""
    question_ids = {s.item.question_version.question_id for s in slots if not s.item.is_numeric}
    versions = {
        v.question_id: v
        for v in QuestionVersion.objects.filter(
            question_id__in=question_ids, status=QuestionVersion.Status.PUBLISHED
        ).order_by("question_id", "number")
    }
    tries = [
        (answer, slot.item.variant)
        for slot in slots if slot.item.is_numeric and not slot.item.is_code
        for answer in slot.answers.all() if answer.submission.status == Submission.Status.GRADED
    ]
    numeric: dict[int, float] = {}
    for start in range(0, len(tries), REGRADE_CHUNK):  # a whole quiz's preview: only scores are kept
        chunk = tries[start:start + REGRADE_CHUNK]
        keys = current_variants_data([variant for _, variant in chunk])
        results = engine.grade_batch(keys, [answer.submission.answer for answer, _ in chunk])
        numeric.update((answer.id, float(result["score"])) for (answer, _), result in zip(chunk, results, strict=True))
    return RegradeBasis(versions=versions, numeric=numeric)


REGRADE_CHUNK = 2048  # numeric tries per grade_batch call: bounded memory however large the class


def current_variants_data(variants: Sequence) -> list[dict]:
    """What the current engine grades each stored variant against (see the module docstring).
    The variants of an older engine version are made again in bulk, one `generate_batch` call
    per kind and difficulty."""
    stale: dict[tuple[str, str], set[int]] = defaultdict(set)
    for variant in variants:
        if variant.engine_version != ENGINE_VERSION:
            stale[(variant.kind, variant.difficulty)].add(variant.seed)
    remade: dict[tuple[str, str, int], dict] = {}
    for (kind, difficulty), seeds in stale.items():
        ordered = sorted(seeds)
        for seed, data in zip(ordered, engine.generate_batch(kind, ordered, difficulty), strict=True):
            remade[(kind, difficulty, seed)] = data
    return [
        variant.data if variant.engine_version == ENGINE_VERSION
        else _same_problem_or_stored(variant, remade[(variant.kind, variant.difficulty, variant.seed)])
        for variant in variants
    ]


def _same_problem_or_stored(variant, remade: dict) -> dict:
    same_problem = remade["params"] == variant.data["params"] and [
        (p["name"], p.get("shape")) for p in remade["parts"]
    ] == [(p["name"], p.get("shape")) for p in variant.data["parts"]]
    if not same_problem:
        log.warning("variant %s: engine %s poses another problem for its seed; its stored key stays",
                    variant.id, ENGINE_VERSION)
        return variant.data
    return remade


def _regraded_fraction(slot: AttemptSlot, answer: QuizAnswer, target: QuestionVersion | None,
                       basis: RegradeBasis) -> float:
    if slot.item.is_numeric:
        return basis.numeric[answer.id]
    result = grade_item_response(question=target.data, response=answer.submission.answer.get("response"),
                                 item_id=slot.item_id)
    return float(result["score"] or 0.0)


def slot_regrade(slot: AttemptSlot, quiz: Quiz, basis: RegradeBasis):
    """(new mark, answers with their new fractions set in memory, target version) for a slot.
    A code answer keeps its grade: its tests and their verified results belong to its variant,
    which a regrade does not change, and running learner code again is the code worker's alone."""
    if slot.item.is_code:
        return slot.mark, [], None
    target = None if slot.item.is_numeric else basis.versions.get(slot.item.question_version.question_id)
    answers = list(slot.answers.all())
    if not slot.item.is_numeric and target is None:
        return slot.mark, [], None  # the question has no published version left: nothing to grade against
    changed = []
    for answer in answers:
        if answer.submission.status != Submission.Status.GRADED:
            continue
        new = _regraded_fraction(slot, answer, target, basis)
        current = answer.regraded_score if answer.regraded_score is not None else answer.submission.score
        if new != current:
            answer.regraded_score = new
            changed.append(answer)
    submitted = slot.attempt.state == QuizAttempt.State.SUBMITTED
    return slot_mark(quiz=quiz, slot=slot, answers=answers, submitted=submitted), changed, target


def regrade_slots(quiz: Quiz):
    return (
        AttemptSlot.objects.filter(attempt__quiz=quiz, attempt__is_preview=False)  # staff previews are not regraded
        .select_related("attempt__learner", "item__variant", "item__question_version__question")
        .prefetch_related("answers__submission")
        .order_by("id")
    )


def regrade_preview(*, quiz: Quiz, user) -> list[RegradeChange]:
    """Which slot marks a regrade would change, old -> new (instructors and TAs; writes nothing)."""
    require_role(course=quiz.course, user=user, roles=STAFF_ROLES)
    slots = list(regrade_slots(quiz))
    basis = regrade_basis(slots)
    changes = []
    for slot in slots:
        new_mark, changed, target = slot_regrade(slot, quiz, basis)
        if changed and new_mark != slot.mark:
            changes.append(
                RegradeChange(
                    attempt_id=slot.attempt_id,
                    attempt_number=slot.attempt.number,
                    learner=slot.attempt.learner.get_username(),
                    slot=slot.slot,
                    position=slot.position,
                    question=(
                        slot.item.variant.kind if slot.item.is_numeric else slot.item.question_version.question.slug
                    ),
                    old_mark=slot.mark,
                    new_mark=new_mark,
                    against_version=target.number if target else None,
                )
            )
    return changes


@dataclass(frozen=True)
class PinnedBehind:
    slug: str
    title: str
    pinned: int
    current: int


def pinned_behind(*, quiz: Quiz, user) -> list[PinnedBehind]:
    """The quiz's pinned question versions that a newer published version has replaced (staff):
    what applying a regrade would move the quiz to."""
    require_role(course=quiz.course, user=user, roles=STAFF_ROLES)
    pinned = QuestionVersion.objects.filter(
        id__in=QuizSection.pinned_versions.through.objects.filter(quizsection__quiz=quiz).values("questionversion_id")
    ).select_related("question")
    current = {
        v.question_id: v
        for v in QuestionVersion.objects.filter(
            question_id__in=[p.question_id for p in pinned], status=QuestionVersion.Status.PUBLISHED
        )
    }
    return sorted(
        (
            PinnedBehind(p.question.slug, current[p.question_id].data["title"], p.number, current[p.question_id].number)
            for p in pinned
            if p.question_id in current and current[p.question_id].number > p.number
        ),
        key=lambda b: b.slug,
    )


def regrade_run_for(*, user, run_id: int) -> RegradeRun:
    run = RegradeRun.objects.select_related("quiz__course").filter(id=run_id).first()
    if run is None:
        raise Http404("No such regrade.")
    require_role(course=run.quiz.course, user=user, roles=STAFF_ROLES)
    return run



def require_quiz_item_open(*, item, now: datetime | None = None) -> None:
    """A quiz item may still be worked on (its attempt is in progress and within its deadline),
    else `AttemptClosed` (409): what "Run examples" on a quiz's code question checks."""
    slot = AttemptSlot.objects.select_related("attempt").filter(item=item).first()
    if slot is None or slot.attempt.state != QuizAttempt.State.IN_PROGRESS or is_overdue(slot.attempt,
                                                                                           now or timezone.now()):
        raise AttemptClosed("This quiz attempt is over: its examples can no longer be run.")


def quiz_to_take(*, learner, now: datetime | None = None) -> Quiz | None:
    """The learner's most pressing quiz: one of their courses' open quizzes (opened, not closed)
    with an attempt in progress, else one they have not started yet, the soonest to close first."""
    now = now or timezone.now()
    quizzes = (
        quizzes_attemptable(now=now)
        .filter(course__memberships__user=learner, course__memberships__role=Membership.Role.LEARNER)
        .filter(Q(opens_at__isnull=True) | Q(opens_at__lte=now))
        .select_related("course")
        .order_by(F("closes_at").asc(nulls_last=True), "id")
    )
    running = quizzes.filter(attempts__learner=learner, attempts__state=QuizAttempt.State.IN_PROGRESS,
                             attempts__is_preview=False).first()
    return running or quizzes.exclude(attempts__learner=learner, attempts__is_preview=False).first()
