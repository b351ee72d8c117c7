"""Regrading a quiz after a key or a tolerance changed.

What a regrade grades against:

* a theory slot: the question's *current published version* (publishing a new version with
  another correct answer is how a key is fixed); the learner's stored response is graded by
  `theory.grade_theory` against it;
* a numeric slot: the current engine's key and grader. A variant made by an older engine
  version is made again from its seed by the current engine (`current_variant_data`), and
  its key, tolerances and misconceptions are used when the problem the learner saw (params
  and parts) is the same; when the new engine would pose another problem for that seed, the
  stored key stays (the learner's answer belongs to the problem they saw). Making a variant
  imports torch: in the full stack the regrade runs in the worker; a preview of a quiz whose
  variants are of an older engine version makes them in the process that asks.

Both marks are kept: each try's new fraction goes to `QuizAnswer.regraded_score` (the
submission keeps its own score and result); a slot whose mark changes keeps the first mark in
`original_mark` and the version in `regraded_against`; an attempt whose score changes keeps
the first score in `original_score`. Regrading again against the same keys changes nothing.

`regrade_preview` computes the changes without writing; `regrade_start` records a
`RegradeRun` and has the `regrade_quiz` task apply it in batches of slots, each batch in one
transaction that also advances the run's cursor, so a task killed mid-way resumes where the
last committed batch ended, and a duplicate message finds the work done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from django.db import transaction
from django.utils import timezone

from attention_engine import ENGINE_VERSION
from attention_engine import api as engine

from .courses import STAFF_ROLES, require_role
from .models import (
    AttemptSlot,
    Membership,
    QuestionVersion,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    RegradeRun,
    Submission,
)
from .quizzes import attempt_refresh_marks, slot_mark
from .theory import grade_theory

log = logging.getLogger(__name__)

BATCH_SIZE = 200


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


def _current_versions(slots: list[AttemptSlot]) -> dict[int, QuestionVersion]:
    question_ids = {s.item.question_version.question_id for s in slots if not s.item.is_numeric}
    return {
        v.question_id: v
        for v in QuestionVersion.objects.filter(
            question_id__in=question_ids, status=QuestionVersion.Status.PUBLISHED
        ).order_by("question_id", "number")
    }


@lru_cache(maxsize=1024)
def _remade(kind: str, seed: int, difficulty: str, engine_version: str) -> dict:
    return engine.generate(kind, seed, difficulty)


def current_variant_data(variant) -> dict:
    """What the current engine grades a stored variant against (see the module docstring)."""
    if variant.engine_version == ENGINE_VERSION:
        return variant.data
    remade = _remade(variant.kind, variant.seed, variant.difficulty, ENGINE_VERSION)
    same_problem = remade["params"] == variant.data["params"] and [
        (p["name"], p.get("shape")) for p in remade["parts"]
    ] == [(p["name"], p.get("shape")) for p in variant.data["parts"]]
    if not same_problem:
        log.warning("variant %s: engine %s poses another problem for its seed; its stored key stays",
                    variant.id, ENGINE_VERSION)
        return variant.data
    return remade


def _regraded_fraction(slot: AttemptSlot, answer: QuizAnswer, target: QuestionVersion | None) -> float:
    submitted = answer.submission.answer
    if slot.item.is_numeric:
        return float(engine.grade(current_variant_data(slot.item.variant), submitted)["score"])
    result = grade_theory(target.data, submitted.get("response"))
    return float(result["score"] or 0.0)


def _slot_regrade(slot: AttemptSlot, quiz: Quiz, versions: dict[int, QuestionVersion]):
    """(new mark, answers with their new fractions set in memory, target version) for a slot."""
    target = None if slot.item.is_numeric else versions.get(slot.item.question_version.question_id)
    answers = list(slot.answers.all())
    if not slot.item.is_numeric and target is None:
        return slot.mark, [], None  # the question has no published version left: nothing to grade against
    changed = []
    for answer in answers:
        if answer.submission.status != Submission.Status.GRADED:
            continue
        new = _regraded_fraction(slot, answer, target)
        current = answer.regraded_score if answer.regraded_score is not None else answer.submission.score
        if new != current:
            answer.regraded_score = new
            changed.append(answer)
    submitted = slot.attempt.state == QuizAttempt.State.SUBMITTED
    return slot_mark(quiz=quiz, slot=slot, answers=answers, submitted=submitted), changed, target


def _slots(quiz: Quiz):
    return (
        AttemptSlot.objects.filter(attempt__quiz=quiz, attempt__is_preview=False)  # staff previews are not regraded
        .select_related("attempt__learner", "item__variant", "item__question_version__question")
        .prefetch_related("answers__submission")
        .order_by("id")
    )


def regrade_preview(*, quiz: Quiz, user) -> list[RegradeChange]:
    """Which slot marks a regrade would change, old -> new (instructors and TAs; writes nothing)."""
    require_role(course=quiz.course, user=user, roles=STAFF_ROLES)
    slots = list(_slots(quiz))
    versions = _current_versions(slots)
    changes = []
    for slot in slots:
        new_mark, changed, target = _slot_regrade(slot, quiz, versions)
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


def regrade_start(*, quiz: Quiz, user) -> RegradeRun:
    """Record a regrade and have the worker apply it in batches (instructors only)."""
    require_role(course=quiz.course, user=user, roles=(Membership.Role.INSTRUCTOR,))
    with transaction.atomic():
        run = RegradeRun.objects.create(
            quiz=quiz, requested_by=user, slots_total=AttemptSlot.objects.filter(attempt__quiz=quiz).count()
        )
        transaction.on_commit(lambda: _enqueue(run.id))
    return run


def _enqueue(run_id: int) -> None:
    from .tasks import regrade_quiz

    try:
        regrade_quiz.delay(run_id)
    except Exception:  # broker down: the run stays pending and `regrade_resume` picks it up
        log.warning("could not enqueue regrade run %s", run_id, exc_info=True)


def regrade_run_batch(*, run_id: int, batch_size: int | None = None) -> bool:
    """Apply the next batch of a run. Returns True while batches remain. Idempotent: the run row
    is locked, the batch is the slots after the committed cursor, and a finished run is left."""
    with transaction.atomic():
        run = RegradeRun.objects.select_for_update().select_related("quiz").get(id=run_id)
        if run.state == RegradeRun.State.DONE:
            return False
        slots = list(_slots(run.quiz).filter(id__gt=run.cursor)[: batch_size or BATCH_SIZE])
        if not slots:
            run.state = RegradeRun.State.DONE
            run.finished_at = timezone.now()
            run.save(update_fields=["state", "finished_at"])
            return False
        versions = _current_versions(slots)
        now = timezone.now()
        touched: set[int] = set()
        for slot in slots:
            new_mark, changed, target = _slot_regrade(slot, run.quiz, versions)
            if not changed:
                continue
            QuizAnswer.objects.bulk_update(changed, ["regraded_score"])
            if new_mark != slot.mark:
                if slot.original_mark is None and slot.regraded_at is None:
                    slot.original_mark = slot.mark
                slot.mark = new_mark
                slot.regraded_at = now
                slot.regraded_against = target
                slot.save(update_fields=["original_mark", "mark", "regraded_at", "regraded_against"])
                run.slots_changed += 1
            touched.add(slot.attempt_id)
        for attempt in QuizAttempt.objects.select_for_update().select_related("quiz").filter(id__in=touched):
            before = attempt.score
            attempt_refresh_marks(attempt)
            if attempt.score != before and attempt.original_score is None:
                attempt.original_score = before
                attempt.save(update_fields=["original_score"])
        run.cursor = slots[-1].id
        run.slots_done += len(slots)
        run.save(update_fields=["cursor", "slots_done", "slots_changed"])
    return True


def regrade_resume() -> list[int]:
    """Re-enqueue runs left pending (broker down when they started, worker killed)."""
    ids = list(RegradeRun.objects.filter(state=RegradeRun.State.PENDING).values_list("id", flat=True))
    for run_id in ids:
        _enqueue(run_id)
    return ids


def regrade_run_for(*, user, run_id: int) -> RegradeRun:
    from django.http import Http404

    run = RegradeRun.objects.select_related("quiz__course").filter(id=run_id).first()
    if run is None:
        raise Http404("No such regrade.")
    require_role(course=run.quiz.course, user=user, roles=STAFF_ROLES)
    return run
