"""Practice's writes run by the worker (they may load the engine's torch route): make variants,
grade a submission exactly once, find submissions left pending."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from attention_engine import ENGINE_VERSION
from attention_engine import api as engine
from attention_engine.code import not_run
from attention_engine.code.sandbox import SandboxUnavailable
from questions.practice import dispatch
from questions.practice.models import (
    CODE_KIND_NAMES,
    AnswerDraft,
    PracticeItem,
    Submission,
    Variant,
)
from questions.practice.notify import announce_graded
from questions.practice.rules import grade_item_response, is_empty_answer, item_format_errors

log = logging.getLogger(__name__)

RESERVE_CHUNK = 256  # variants made per call of the engine's batch API: bounded memory


def variants_generate(*, kind: str, difficulty: str, count: int) -> list[int]:
    """Make `count` new verified variants and put them in stock, through the engine's batch API in
    chunks (runs in the worker: it loads torch). Returns the ids of those made."""
    identity = {"kind": kind, "difficulty": difficulty, "engine_version": ENGINE_VERSION}
    ids: list[int] = []
    for start in range(0, count, RESERVE_CHUNK):
        seeds = sorted({secrets.randbelow(2**31) for _ in range(min(RESERVE_CHUNK, count - start))})
        fresh = seeds and set(seeds) - set(
            Variant.objects.filter(**identity, seed__in=seeds).values_list("seed", flat=True)
        )  # a seed drawn before names a variant that is already stored
        if not fresh:
            continue
        seeds = sorted(fresh)
        Variant.objects.bulk_create(
            [Variant(**identity, seed=seed, data=data)
             for seed, data in zip(seeds, engine.generate_batch(kind, seeds, difficulty), strict=True)],
            ignore_conflicts=True,
        )
        ids += Variant.objects.filter(**identity, seed__in=seeds, claimed_at__isnull=True).values_list("id", flat=True)
    return ids


def code_submission_grade(*, submission_id: int, device: str = "cpu") -> Submission:
    """Grade a pending code submission once (the code worker only): run the code on every test of
    its variant in a fresh sandbox, outside any transaction (it takes a second or more), then store
    the grade through `submission_grade`, which stores it only if it is still pending.

    When the sandbox cannot be set up here the code is not run: the submission is stored invalid
    with the reason (it costs no attempt), and the learner may send it again."""
    submission = Submission.objects.select_related("item__variant").get(id=submission_id)
    if submission.status != Submission.Status.PENDING:
        return submission
    variant = submission.item.variant
    if variant is None or not variant.is_code:
        raise ValueError(f"submission {submission_id} is not answered with code")
    result = _code_graded(variant.data, submission.answer, device=device, what=f"submission {submission_id}")
    return submission_grade(submission_id=submission_id, precomputed=result)


def _code_graded(variant: dict, answer: dict, *, device: str, what: str, examples_only: bool = False) -> dict:
    """The engine's grade of code run in a sandbox; when the sandbox cannot be set up here, the
    code is not run and the result says why (no attempt counted)."""
    try:
        return engine.grade_code(variant, answer, examples_only=examples_only, device=device)
    except SandboxUnavailable as exc:
        log.error("the sandbox is unavailable on this worker; %s was not run: %s", what, exc)
        return not_run(f"Your code was not run: the grading server cannot start its sandbox right now ({exc}); "
                       "please submit again later.")


def code_examples_grade(*, item_id: int, code: str, device: str = "cpu") -> dict:
    """Run code on an item's visible examples only (the code worker: "Run examples"); nothing is
    stored. A sandbox that cannot be set up gives the same result as for a submission."""
    variant = Variant.objects.get(item__id=item_id)
    if not variant.is_code:
        raise ValueError(f"item {item_id} is not a code exercise")
    return _code_graded(variant.data, {"code": code}, device=device, what=f"the examples of item {item_id}",
                        examples_only=True)


STALE_BACKOFF_STEPS = 6
STALE_BACKOFF_CAP = timedelta(minutes=5)

def variants_reserve_for_seeds(*, kind: str, difficulty: str, seeds: Sequence[int]) -> int:
    """Make the missing variants of these seeds (a quiz's deterministic draws) through the engine's
    batch API, in chunks, stored *reserved* (`claimed_at` set): the practice stock never hands a
    quiz's variant to anybody. Runs in the worker (it loads torch); returns how many were made."""
    wanted = sorted(set(seeds))
    identity = {"kind": kind, "difficulty": difficulty, "engine_version": ENGINE_VERSION}
    made = 0
    for start in range(0, len(wanted), RESERVE_CHUNK):
        chunk = wanted[start:start + RESERVE_CHUNK]
        present = set(Variant.objects.filter(**identity, seed__in=chunk).values_list("seed", flat=True))
        missing = [seed for seed in chunk if seed not in present]
        if not missing:
            continue
        now = timezone.now()
        Variant.objects.bulk_create(
            [Variant(**identity, seed=seed, data=data, claimed_at=now)
             for seed, data in zip(missing, engine.generate_batch(kind, missing, difficulty), strict=True)],
            ignore_conflicts=True,  # made concurrently: the same variant
        )
        made += len(missing)
    return made


def variants_generate_for_seeds(*, kind: str, difficulty: str, seeds: Sequence[int]) -> list[int]:
    """Make (or find) the variant of each seed under the current engine, reserved for the quiz
    that asked (runs in the worker: it loads torch). Returns the variant ids in seed order."""
    variants_reserve_for_seeds(kind=kind, difficulty=difficulty, seeds=seeds)
    ids = dict(
        Variant.objects.filter(kind=kind, difficulty=difficulty, engine_version=ENGINE_VERSION, seed__in=seeds)
        .values_list("seed", "id")
    )
    return [ids[seed] for seed in seeds]


class AnsweredWithCode(ValueError):
    """A code answer reached the grading of numbers and theory: only the code worker runs code."""


def submission_grade(*, submission_id: int, precomputed: dict | None = None) -> Submission:
    """Grade a pending submission once. A second call, or a redelivered message, changes nothing.

    `precomputed` is the engine's result for this submission's answer, worked out beforehand
    (in bulk by `submissions_grade`; by running the code in a sandbox, `code_submission_grade`):
    an answer and its variant never change, so it is the grade the engine would give here; it is
    stored under the same lock and check."""
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("item__variant", "item__question_version")
            .get(id=submission_id)
        )
        if submission.status != Submission.Status.PENDING:
            return submission
        item = submission.item
        if precomputed is not None:
            result = precomputed
        elif item.is_code:  # its code runs on the code worker only (`code_submission_grade`)
            raise AnsweredWithCode(f"submission {submission_id} is answered with code: the code worker grades it")
        elif item.is_numeric:
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
        transaction.on_commit(lambda: announce_graded(submission.id))
        # The review rating, or the quiz mark, in this transaction: exactly once, with the grade.
        dispatch.graded(submission)
    return submission


GRADE_BURST = 100  # submissions per bulk grading message: bounded memory and time per message


def submissions_grade(*, submission_ids: Sequence[int]) -> dict[int, str]:
    """Grade a burst of pending submissions (the sweep's, after a worker died or Redis restarted):
    the numeric answers through the engine's `grade_batch` in one call, before any row is locked,
    then each stored by `submission_grade` in a transaction of its own, so exactly-once holds per
    submission as when they are graded one by one. Returns each submission's status after
    ("failed" for one that could not be graded: it stays pending for the sweep)."""
    ids = sorted(set(submission_ids))[:GRADE_BURST]
    pending = [
        s for s in Submission.objects.filter(id__in=ids, status=Submission.Status.PENDING, item__variant__isnull=False)
        .select_related("item__variant") if not s.item.variant.is_code
    ]
    variants: dict[int, dict] = {}  # one dict per variant: grade_batch parses each dict once
    keys = [variants.setdefault(s.item.variant_id, s.item.variant.data) for s in pending]
    try:
        results = engine.grade_batch(keys, [s.answer for s in pending])
        precomputed = {s.id: result for s, result in zip(pending, results, strict=True)}
    except Exception:  # one variant the engine cannot grade must not hold back the others
        log.exception("grading a burst of %d in bulk failed; grading them one by one", len(pending))
        precomputed = {}
    statuses = {}
    for sid in ids:
        try:
            statuses[sid] = submission_grade(submission_id=sid, precomputed=precomputed.get(sid)).status
        except (OperationalError, SoftTimeLimitExceeded):
            raise  # the task retries (the database), or its time is up: the sweep sends the rest again
        except Exception:  # a submission deleted meanwhile, a variant the engine refuses: not the others'
            log.exception("could not grade submission %s of a burst; it stays for the sweep", sid)
            statuses[sid] = "failed"
    return statuses


def _stale_since(now, stale_after: timedelta) -> Q:
    """Pending since `stale_after` after the first enqueue, then twice as long after each one."""
    stale = Q()
    for count in range(1, STALE_BACKOFF_STEPS + 1):
        wait = min(stale_after * 2 ** (count - 1), max(stale_after, STALE_BACKOFF_CAP))
        stale |= Q(enqueue_count=count, enqueued_at__lt=now - wait)
    stale |= Q(enqueue_count__gt=STALE_BACKOFF_STEPS, enqueued_at__lt=now - max(stale_after, STALE_BACKOFF_CAP))
    stale |= Q(enqueue_count__lt=1, enqueued_at__lt=now - stale_after)
    return stale


def submissions_mark_stale(*, stale_after: timedelta | None = None) -> list[int]:
    """Mark submissions left pending (worker killed, Redis restarted, enqueue failed) as enqueued
    again, and return their ids for the sweep (`questions.practice.tasks.submissions_sweep`).

    A submission counts as stale `stale_after` after its first enqueue, then twice as long after
    each re-enqueue (5, 10, 20 ... s, at most STALE_BACKOFF_CAP): a lost message is sent again
    within seconds, while one that only waits behind a burst is not copied again and again.
    Copies are harmless anyway: grading happens once (`submission_grade`)."""
    if stale_after is None:
        stale_after = timedelta(seconds=settings.SUBMISSION_STALE_SECONDS)
    now = timezone.now()
    # A code answer takes seconds in its sandbox: it is stale only once its task's time limit has
    # passed, so one that is still running is not run again in a second sandbox.
    code = Q(item__variant__kind__in=CODE_KIND_NAMES)
    code_after = max(stale_after, timedelta(seconds=settings.CODE_SUBMISSION_STALE_SECONDS))
    stale_now = (_stale_since(now, stale_after) & ~code) | (_stale_since(now, code_after) & code)
    with transaction.atomic():
        stale = list(
            Submission.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(stale_now, status=Submission.Status.PENDING)
            .order_by("id")
            .values_list("id", flat=True)[:500]
        )
        if not stale:
            return []
        Submission.objects.filter(id__in=stale).update(
            enqueued_at=timezone.now(), enqueue_count=F("enqueue_count") + 1
        )
    return stale



UNREADABLE_DRAFT = "What was entered could not be read."


def drafts_submit(*, learner_id: int, item_ids: Sequence[int], at: datetime) -> list[Submission]:
    """When a quiz attempt or a mock interview ends (time ran out, or Submit/Finish), submit each
    of these items' drafts that is newer than the item's last answer, as that answer: graded like
    any other (blank parts blank); an unreadable one is stored as unreadable (`INVALID`). Drafts
    saved after `at`, empty drafts and drafts equal to the last answer are not answers.

    Call inside the transaction that ends the attempt or interview, with its row locked: every
    draft is deleted as it is used, so a second end (the beat task, a late Submit) finds none and
    each draft is graded exactly once. Returns the submissions made."""
    drafts = list(
        AnswerDraft.objects.select_for_update()
        .filter(learner_id=learner_id, item_id__in=list(item_ids), updated_at__lte=at)
        .order_by("item_id")
    )
    if not drafts:
        return []
    items = PracticeItem.objects.select_related("variant", "question_version").in_bulk([d.item_id for d in drafts])
    latest: dict[int, Submission] = {}
    for submission in Submission.objects.filter(item_id__in=items).only("item_id", "answer", "created_at").order_by("id"):
        latest[submission.item_id] = submission  # the last by id wins
    now = timezone.now()
    made = []
    for draft in drafts:
        item, last = items[draft.item_id], latest.get(draft.item_id)
        superseded = last is not None and (last.created_at >= draft.updated_at or last.answer == draft.answer)
        if not (superseded or is_empty_answer(draft.answer)):
            made.append(_submission_from_draft(item=item, learner_id=learner_id, answer=draft.answer, now=now))
    AnswerDraft.objects.filter(id__in=[d.id for d in drafts]).delete()
    return made


def _submission_from_draft(*, item: PracticeItem, learner_id: int, answer, now: datetime) -> Submission:
    try:
        errors = item_format_errors(item, answer)
    except Exception:  # a draft is only shape-checked when saved: whatever it holds, never a 500
        log.warning("draft of item %s could not be read", item.id, exc_info=True)
        errors = [{"part": "response", "row": None, "col": None, "message": UNREADABLE_DRAFT}]
    if errors:
        return Submission.objects.create(
            item=item, learner_id=learner_id, answer=answer, from_draft=True,
            status=Submission.Status.INVALID, result={"format_errors": errors, "score": None}, graded_at=now,
        )
    submission = Submission.objects.create(
        item=item, learner_id=learner_id, answer=answer, from_draft=True, enqueued_at=now, enqueue_count=1
    )
    dispatch.grade_after_commit(submission)
    return submission
