"""Practice's writes run by the worker (they may load the engine's torch route): make variants,
grade a submission exactly once, find submissions left pending."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from attention_engine import ENGINE_VERSION
from attention_engine import api as engine
from questions.practice import dispatch
from questions.practice.models import Submission, Variant
from questions.practice.rules import grade_item_response


def variant_for_seed(*, kind: str, difficulty: str, seed: int) -> tuple[Variant, bool]:
    """The verified variant of this seed under the current engine, made and stored if it is
    missing (runs in the worker: making one loads torch). Returns (variant, created)."""
    identity = {"kind": kind, "difficulty": difficulty, "seed": seed, "engine_version": ENGINE_VERSION}
    variant = Variant.objects.filter(**identity).first()
    if variant is not None:
        return variant, False
    data = engine.generate(kind, seed, difficulty)
    try:
        with transaction.atomic():
            return Variant.objects.create(**identity, data=data), True
    except IntegrityError:  # made concurrently: the same variant
        return Variant.objects.get(**identity), False


def variants_generate(*, kind: str, difficulty: str, count: int) -> list[int]:
    """Make `count` new verified variants and put them in stock (runs in the worker: it loads torch)."""
    ids = []
    for _ in range(count):
        variant, created = variant_for_seed(kind=kind, difficulty=difficulty, seed=secrets.randbelow(2**31))
        if created:  # a seed drawn before names a variant that is already stored
            ids.append(variant.id)
    return ids


def variants_generate_for_seeds(*, kind: str, difficulty: str, seeds: Sequence[int]) -> list[int]:
    """Make (or find) the variant of each seed under the current engine (runs in the worker:
    it loads torch). Returns the variant ids in the order of `seeds`."""
    return [variant_for_seed(kind=kind, difficulty=difficulty, seed=seed)[0].id for seed in seeds]


def submission_grade(*, submission_id: int) -> Submission:
    """Grade a pending submission once. A second call, or a redelivered message, changes nothing."""
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("item__variant", "item__question_version")
            .get(id=submission_id)
        )
        if submission.status != Submission.Status.PENDING:
            return submission
        item = submission.item
        if item.is_numeric:
            result = engine.grade(item.variant.data, submission.answer)
        else:
            result = grade_item_response(
                question=item.question_version.data, response=submission.answer.get("response"), item_id=item.id
            )
        invalid = bool(result.get("format_errors") or result.get("format_error"))
        submission.status = Submission.Status.INVALID if invalid else Submission.Status.GRADED
        # An essay has no automatic score: graded (read) with score None, for a person to mark.
        score = result.get("score")
        submission.score = None if invalid or score is None else float(score)
        submission.result = result
        submission.graded_at = timezone.now()
        submission.save(update_fields=["status", "score", "result", "graded_at"])
        # The review rating, or the quiz mark, in this transaction: exactly once, with the grade.
        dispatch.graded(submission)
    return submission


def submissions_mark_stale(*, stale_after: timedelta | None = None) -> list[int]:
    """Mark submissions left pending (worker killed, Redis restarted) as enqueued again, and return
    their ids for the sweep (`questions.practice.tasks.submissions_sweep`) to enqueue."""
    if stale_after is None:
        stale_after = timedelta(seconds=settings.SUBMISSION_STALE_SECONDS)
    cutoff = timezone.now() - stale_after
    with transaction.atomic():
        stale = list(
            Submission.objects.select_for_update(skip_locked=True)
            .filter(status=Submission.Status.PENDING, enqueued_at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:500]
        )
        if not stale:
            return []
        Submission.objects.filter(id__in=stale).update(
            enqueued_at=timezone.now(), enqueue_count=F("enqueue_count") + 1
        )
    return stale

