"""Courses' writes that beat, the worker and other writes run: the one place a deadline is applied
(`attempt_expire_if_overdue`, `attempts_close_overdue`), stored marks, regrade batches."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from questions.courses.models import (
    AttemptSlot,
    Membership,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    RegradeRun,
)
from questions.courses.rules import (
    answer_fraction,
    attempt_marks,
    is_overdue,
    numeric_slot_seeds,
)
from questions.courses.selectors import regrade_basis, regrade_slots, slot_regrade
from questions.practice import dispatch
from questions.practice.jobs import drafts_submit, variants_reserve_for_seeds
from questions.practice.models import AnswerDraft, Purpose, Submission

PREPARE_CHUNK = 500  # learners whose seeds are gathered and made at a time: bounded memory


def attempt_expire_if_overdue(*, attempt: QuizAttempt, now: datetime | None = None) -> QuizAttempt:
    """Submit an in-progress attempt at its deadline if the deadline has passed; else nothing.

    Decided on the stored row: the attempt passed in may be a read's view of it
    (`selectors.attempt_as_of`), which already shows an overdue attempt as submitted."""
    stored = QuizAttempt.objects.filter(id=attempt.id).only("state", "deadline").first()
    if stored is None or not is_overdue(stored, now or timezone.now()):
        return attempt
    return attempt_finish(attempt_id=attempt.id, at=stored.deadline, by=QuizAttempt.SubmittedBy.DEADLINE)


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
            attempt_finish(attempt_id=attempt_id, at=attempt.deadline, by=QuizAttempt.SubmittedBy.DEADLINE)
            closed.append(attempt_id)
    return closed


def attempt_finish(*, attempt_id: int, at: datetime, by: str) -> QuizAttempt:
    with transaction.atomic():
        attempt = QuizAttempt.objects.select_for_update().select_related("quiz").get(id=attempt_id)
        if attempt.state == QuizAttempt.State.SUBMITTED:
            return attempt  # someone else (the beat task, another request) got here first
        attempt_answer_drafts(attempt, at=at)
        attempt.state = QuizAttempt.State.SUBMITTED
        attempt.submitted_at = at
        attempt.submitted_by = by
        attempt.save(update_fields=["state", "submitted_at", "submitted_by"])
        attempt_refresh_marks(attempt)
    return attempt


def attempt_answer_drafts(attempt: QuizAttempt, *, at: datetime) -> list[QuizAnswer]:
    """As the attempt ends at `at`, each question's draft newer than its last try becomes a try
    (`practice.jobs.drafts_submit`: graded once, like any answer), at the certainty of the slot's
    last try (none: marked as 1). A question already answered right under immediate feedback
    takes no more tries. Call with the attempt row locked, before it is marked submitted."""
    immediate = attempt.quiz.feedback_timing == Quiz.FeedbackTiming.IMMEDIATE
    open_slots, item_ids = {}, []
    for slot in attempt.slots.prefetch_related("answers__submission"):
        item_ids.append(slot.item_id)
        graded = [a for a in slot.answers.all() if a.submission.status == Submission.Status.GRADED]
        if not (immediate and graded and answer_fraction(graded[-1]) >= 1.0):
            open_slots[slot.item_id] = slot
    made = []
    for submission in drafts_submit(learner_id=attempt.learner_id, item_ids=list(open_slots), at=at):
        slot = open_slots[submission.item_id]
        tries = list(slot.answers.all())
        certainty = tries[-1].certainty if tries else None
        made.append(QuizAnswer.objects.create(slot=slot, submission=submission, certainty=certainty))
    # The drafts of the questions that took no more tries go too: none outlives the attempt.
    AnswerDraft.objects.filter(learner_id=attempt.learner_id, item_id__in=item_ids).delete()
    return made


def attempt_refresh_marks(attempt: QuizAttempt) -> None:
    """Store every slot's mark and, once the attempt is submitted and every mark is known, its
    score (`rules.attempt_marks`). Call with the attempt row locked."""
    slots = list(attempt.slots.prefetch_related("answers__submission"))
    marks, score = attempt_marks(
        quiz=attempt.quiz, slots=slots, submitted=attempt.state == QuizAttempt.State.SUBMITTED
    )
    for slot, mark in zip(slots, marks, strict=True):
        if mark != slot.mark:
            slot.mark = mark
            slot.save(update_fields=["mark"])
    if score != attempt.score:
        attempt.score = score
        attempt.save(update_fields=["score"])


BATCH_SIZE = 200


def regrade_run_batch(*, run_id: int, batch_size: int | None = None) -> bool:
    """Apply the next batch of a run. Returns True while batches remain. Idempotent: the run row
    is locked, the batch is the slots after the committed cursor, and a finished run is left."""
    with transaction.atomic():
        run = RegradeRun.objects.select_for_update().select_related("quiz").get(id=run_id)
        if run.state == RegradeRun.State.DONE:
            return False
        slots = list(regrade_slots(run.quiz).filter(id__gt=run.cursor)[: batch_size or BATCH_SIZE])
        if not slots:
            run.state = RegradeRun.State.DONE
            run.finished_at = timezone.now()
            run.save(update_fields=["state", "finished_at"])
            return False
        basis = regrade_basis(slots)  # the batch's numeric tries regraded in one grade_batch call
        now = timezone.now()
        touched: set[int] = set()
        for slot in slots:
            new_mark, changed, target = slot_regrade(slot, run.quiz, basis)
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


@dispatch.on_graded(Purpose.QUIZ)
def quiz_answer_graded(submission: Submission) -> None:
    """Grading's hook (`questions.practice.dispatch`) for quiz items."""
    quiz_item_graded(item_id=submission.item_id)


def quiz_item_graded(*, item_id: int) -> None:
    """A quiz item's try was graded: update the slot's mark and the attempt's score."""
    slot = AttemptSlot.objects.filter(item_id=item_id).only("attempt_id").first()
    if slot is None:
        return
    with transaction.atomic():
        attempt = QuizAttempt.objects.select_for_update().select_related("quiz").get(id=slot.attempt_id)
        attempt_refresh_marks(attempt)


def quiz_variants_prepare(*, quiz_id: int, learner_ids: list[int] | None = None) -> int:
    """Make, ahead of time, the numeric variants of each learner's next attempt of an open quiz
    (of `learner_ids`, or of every learner of the course), so that starting an attempt only reads.

    The seeds are the ones `attempt_start` draws first (`rules.numeric_slot_seeds`); the variants
    are made in bulk through the engine's batch API and stored reserved. Idempotent: what exists
    is skipped. Returns how many variants were made."""
    quiz = Quiz.objects.filter(id=quiz_id, state=Quiz.State.OPEN).first()
    if quiz is None:
        return 0
    sections = list(quiz.sections.order_by("position"))
    if not any(s.is_numeric for s in sections):
        return 0
    learners = Membership.objects.filter(course_id=quiz.course_id, role=Membership.Role.LEARNER)
    if learner_ids is not None:
        learners = learners.filter(user_id__in=learner_ids)
    ids = list(learners.order_by("user_id").values_list("user_id", flat=True))
    made = 0
    for start in range(0, len(ids), PREPARE_CHUNK):
        chunk = ids[start:start + PREPARE_CHUNK]
        done = dict(
            QuizAttempt.objects.filter(quiz=quiz, learner_id__in=chunk, is_preview=False)
            .values("learner_id").annotate(n=Count("id")).values_list("learner_id", "n")
        )
        wanted: dict[tuple[str, str], list[int]] = {}
        for learner_id in chunk:
            number = done.get(learner_id, 0) + 1
            if quiz.attempts_allowed and number > quiz.attempts_allowed:
                continue
            for section, _, seed in numeric_slot_seeds(
                quiz_id=quiz.id, sections=sections, learner_id=learner_id, number=number
            ):
                wanted.setdefault((section.kind, section.difficulty), []).append(seed)
        made += sum(
            variants_reserve_for_seeds(kind=kind, difficulty=difficulty, seeds=seeds)
            for (kind, difficulty), seeds in wanted.items()
        )
    return made
