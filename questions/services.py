"""Writes. Every function is keyword-only, runs in a transaction, and is safe to repeat."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from attention_engine import ENGINE_VERSION
from attention_engine import api as engine
from attention_engine.grading import read_response
from attention_engine.variant import Variant as EngineVariant

from .models import PracticeItem, Purpose, Question, QuestionVersion, Submission, Topic, Variant

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A request the domain refuses; `message` is safe to show to the user, `status` is the HTTP
    status that pages and the API answer it with."""

    status = 400

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ServiceUnavailable(ServiceError):
    """The request is fine but cannot be served now (the worker did not answer); retry later."""

    status = 503


class AnswerFormatError(ServiceError):
    """The answer cannot be read; `details` lists {part, row, col, message}. Costs no attempt."""


# --- Variants: the stock of verified numeric problems -----------------------------------------


def _known_kind(kind: str, difficulty: str) -> None:
    kinds = {k["name"]: k for k in engine.list_kinds()}
    if kind not in kinds:
        raise ServiceError(f"Unknown problem kind {kind!r}. Known kinds: {', '.join(sorted(kinds))}.")
    if difficulty not in kinds[kind]["difficulties"]:
        raise ServiceError(
            f"Unknown difficulty {difficulty!r} for {kind}: use one of "
            f"{', '.join(kinds[kind]['difficulties'])}."
        )


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


def stock_missing(*, kind: str, difficulty: str) -> int:
    """How many variants the stock of (kind, difficulty) lacks to reach its target."""
    in_stock = Variant.objects.filter(
        kind=kind, difficulty=difficulty, engine_version=ENGINE_VERSION, claimed_at__isnull=True
    ).count()
    return max(0, settings.VARIANT_STOCK_TARGET - in_stock)


def _claim_from_stock(*, kind: str, difficulty: str) -> Variant | None:
    for _ in range(5):
        candidate = (
            Variant.objects.select_for_update(skip_locked=True)
            .filter(
                kind=kind,
                difficulty=difficulty,
                engine_version=ENGINE_VERSION,
                claimed_at__isnull=True,
            )
            .order_by("id")
            .first()
        )
        if candidate is None:
            return None
        # The conditional update makes the claim safe on SQLite too, where FOR UPDATE is a no-op.
        now = timezone.now()
        if Variant.objects.filter(id=candidate.id, claimed_at__isnull=True).update(claimed_at=now):
            candidate.claimed_at = now
            return candidate
    return None


def worker_result(task, *, unavailable: str, **kwargs: Any) -> Any:
    """Run a task in the worker and wait for it, at most VARIANT_SYNC_TIMEOUT_SECONDS; a broker
    that is down, a timeout or a failure in the task is ServiceUnavailable(`unavailable`)."""
    try:
        return task.delay(**kwargs).get(timeout=settings.VARIANT_SYNC_TIMEOUT_SECONDS, propagate=True)
    except Exception as exc:
        log.exception("the worker did not complete %s(%s)", task.name, kwargs)
        raise ServiceUnavailable(unavailable) from exc


def practice_item_create_numeric(
    *, learner, kind: str, difficulty: str, purpose: str = Purpose.PRACTICE
) -> PracticeItem:
    """Give the learner a fresh verified variant, from stock, or made on demand when it is empty."""
    _known_kind(kind, difficulty)
    with transaction.atomic():
        variant = _claim_from_stock(kind=kind, difficulty=difficulty)
    if variant is None:
        from .tasks import generate_variants

        worker_result(
            generate_variants,
            kind=kind,
            difficulty=difficulty,
            count=1,
            unavailable="No problem of this kind is ready and the worker did not answer in time. "
            "Please try again in a moment.",
        )
        with transaction.atomic():
            variant = _claim_from_stock(kind=kind, difficulty=difficulty)
        if variant is None:
            raise ServiceUnavailable("Every fresh problem was just taken by other learners; try again.")
    with transaction.atomic():
        item = PracticeItem.objects.create(learner=learner, variant=variant, purpose=purpose)
        transaction.on_commit(lambda: _enqueue_refill(kind=kind, difficulty=difficulty))
    return item


def practice_item_create_for_topic(
    *, learner, topic_slug: str, purpose: str = Purpose.PRACTICE
) -> PracticeItem:
    """The next item of a topic: theory questions and numeric problems interleaved.

    Theory questions come least-recently-seen first (never seen before seen), so a run through a
    topic meets every question before repeating one; every second item is a fresh numeric
    variant when the topic has problem kinds.
    """
    topic = Topic.objects.filter(slug=topic_slug).first()
    kinds = [k["name"] for k in engine.list_kinds() if topic_slug in k["topics"]]
    if topic is None and not kinds:
        raise ServiceError(f"Unknown topic {topic_slug!r}.")
    versions = (
        QuestionVersion.objects.filter(
            question__topic=topic, status=QuestionVersion.Status.PUBLISHED
        ).exclude(data__type="essay")
        if topic
        else QuestionVersion.objects.none()
    )
    seen = PracticeItem.objects.filter(learner=learner)
    in_topic = seen.filter(question_version__question__topic=topic).count() if topic else 0
    numeric_in_topic = seen.filter(variant__kind__in=kinds).count()
    if kinds and (not versions.exists() or numeric_in_topic < in_topic):
        kind = kinds[numeric_in_topic % len(kinds)]
        return practice_item_create_numeric(
            learner=learner, kind=kind, difficulty="medium", purpose=purpose
        )
    if not versions.exists():
        raise ServiceError(f"The topic {topic.title!r} has no published questions to practise yet.")
    last_seen = {
        qid: when
        for qid, when in seen.filter(question_version__in=versions)
        .values_list("question_version__question_id")
        .annotate(last=Max("created_at"))
    }
    choice = min(
        versions.select_related("question"),
        key=lambda v: (v.question_id in last_seen, last_seen.get(v.question_id), secrets.randbelow(1000)),
    )
    return PracticeItem.objects.create(learner=learner, question_version=choice, purpose=purpose)


def _enqueue_refill(*, kind: str, difficulty: str) -> None:
    from .tasks import refill_stock

    try:
        refill_stock.delay(kind=kind, difficulty=difficulty)
    except Exception:  # the learner already has a problem; a missed refill is retried next time
        log.warning("could not enqueue a stock refill for %s/%s", kind, difficulty, exc_info=True)


# --- Submissions ------------------------------------------------------------------------------


MAX_ANSWER_CHARS = 20_000  # an answer's JSON; the largest grid (8 x 8 cells of expressions) is far below


def _unknown_parts(answer: Any, known: set[str]) -> list[dict[str, Any]]:
    """Errors for parts the question does not have, and for an answer too long to be one."""
    if not isinstance(answer, dict):
        return []
    errors = [
        {"part": str(name), "row": None, "col": None, "message": f"This question has no part “{name}”."}
        for name in sorted(set(map(str, answer)) - known)
    ]
    if len(json.dumps(answer, default=str)) > MAX_ANSWER_CHARS:
        errors.append({"part": "response", "row": None, "col": None,
                       "message": f"The answer is longer than {MAX_ANSWER_CHARS:,} characters."})
    return errors


def answer_format_errors(*, variant: dict[str, Any], answer: Any) -> list[dict[str, Any]]:
    """What makes an answer unreadable, cell by cell (the engine's own reader; no torch)."""
    extra = _unknown_parts(answer, {p["name"] for p in variant["parts"]})
    if extra:
        return extra
    _, errors = read_response(EngineVariant.from_dict(variant), answer)
    return [error.to_dict() for error in errors]


def theory_format_errors(*, question: dict[str, Any], answer: Any) -> list[dict[str, Any]]:
    """Why a theory answer (``{"response": ...}``) cannot be read, in the engine's error shape."""
    from .theory import grade_theory

    if not isinstance(answer, dict) or "response" not in answer:
        return [{"part": "response", "row": None, "col": None, "message": "No answer given."}]
    extra = _unknown_parts(answer, {"response"})
    if extra:
        return extra
    problem = grade_theory(question, answer["response"]).get("format_error")
    return [{"part": "response", "row": None, "col": None, "message": problem}] if problem else []


@dataclass(frozen=True)
class SubmissionCreated:
    submission: Submission
    created: bool


def submission_create(
    *, learner, item: PracticeItem, answer: dict[str, Any], idempotency_key: str | None = None
) -> SubmissionCreated:
    """Accept an answer: store it pending and have the worker grade it after commit.

    The same idempotency key twice returns the first submission and enqueues nothing new.
    Unreadable answers are refused here with per-cell messages and never stored.
    """
    if item.learner_id != learner.id:
        raise ServiceError("This item belongs to another learner.")
    if idempotency_key:
        existing = Submission.objects.filter(learner=learner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replayed(existing, item=item)
    if item.is_numeric:
        errors = answer_format_errors(variant=item.variant.data, answer=answer)
    else:
        errors = theory_format_errors(question=item.question_version.data, answer=answer)
    if errors:
        raise AnswerFormatError("The answer could not be read; nothing was counted.", details=errors)
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                item=item,
                learner=learner,
                answer=answer,
                idempotency_key=idempotency_key or None,
                enqueued_at=timezone.now(),
                enqueue_count=1,
            )
            transaction.on_commit(lambda: _enqueue_grading(submission.id))
    except IntegrityError:
        # A concurrent request with the same idempotency key won the race.
        existing = Submission.objects.get(learner=learner, idempotency_key=idempotency_key)
        return _replayed(existing, item=item)
    return SubmissionCreated(submission, created=True)


def _replayed(existing: Submission, *, item: PracticeItem) -> SubmissionCreated:
    """A replay returns the first submission, only for the same item: another item's (a quiz or
    mock answer's) result must not come back through this one, nor its answer count as this."""
    if existing.item_id != item.id:
        raise ServiceError("This Idempotency-Key was already used for another answer.")
    return SubmissionCreated(existing, created=False)


def _enqueue_grading(submission_id: int) -> None:
    from .tasks import grade_submission

    try:
        grade_submission.delay(submission_id)
    except Exception:  # broker down: the row is stored, the sweep enqueues it later
        log.warning("could not enqueue grading of submission %s", submission_id, exc_info=True)


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
            from .theory import grade_theory

            result = grade_theory(item.question_version.data, submission.answer.get("response"))
        invalid = bool(result.get("format_errors") or result.get("format_error"))
        submission.status = Submission.Status.INVALID if invalid else Submission.Status.GRADED
        # An essay has no automatic score: graded (read) with score None, for a person to mark.
        score = result.get("score")
        submission.score = None if invalid or score is None else float(score)
        submission.result = result
        submission.graded_at = timezone.now()
        submission.save(update_fields=["status", "score", "result", "graded_at"])
        # Rates the learner's review card in this transaction: exactly once, with the grade.
        from .learning import review_record

        review_record(submission=submission)
        if item.purpose == Purpose.QUIZ:
            from .quizzes import quiz_item_graded

            quiz_item_graded(item_id=item.id)  # the slot's mark and the attempt's score
    return submission


def submissions_sweep(*, stale_after: timedelta | None = None) -> list[int]:
    """Re-enqueue submissions left pending (worker killed, Redis restarted). Returns their ids.

    Re-enqueueing a submission that is in fact still queued is harmless: grading is idempotent.
    """
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
        for submission_id in stale:
            transaction.on_commit(lambda sid=submission_id: _enqueue_grading(sid))
    return stale


# --- Theory questions and the bank ------------------------------------------------------------


def _content_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def topic_upsert(*, slug: str, title: str, description: str = "", position: int = 0) -> Topic:
    topic, created = Topic.objects.get_or_create(
        slug=slug, defaults={"title": title, "description": description, "position": position}
    )
    if not created and (topic.title, topic.description, topic.position) != (title, description, position):
        topic.title, topic.description, topic.position = title, description, position
        topic.save(update_fields=["title", "description", "position"])
    return topic


def question_version_save(
    *,
    topic: Topic,
    data: dict[str, Any],
    status: str = QuestionVersion.Status.PUBLISHED,
    created_by=None,
) -> tuple[QuestionVersion, bool]:
    """Store `data` as the question's current content. Returns (version, changed).

    The same content again changes nothing. New content makes a new version: a published version
    is never edited in place, so what a graded submission points at stays as it was graded.
    A draft is edited in place (nobody has answered it).
    """
    content_hash = _content_hash(data)
    with transaction.atomic():
        question, _ = Question.objects.select_for_update().get_or_create(
            slug=data["slug"], defaults={"topic": topic}
        )
        if question.topic_id != topic.id:
            question.topic = topic
            question.save(update_fields=["topic"])
        latest = question.versions.order_by("-number").first()
        if latest is not None and latest.content_hash == content_hash and latest.status == status:
            return latest, False
        if latest is not None and latest.status == QuestionVersion.Status.DRAFT:
            latest.data, latest.content_hash, latest.status = data, content_hash, status
            latest.save(update_fields=["data", "content_hash", "status"])
            version = latest
        else:
            version = QuestionVersion.objects.create(
                question=question,
                number=(latest.number + 1) if latest else 1,
                status=status,
                data=data,
                content_hash=content_hash,
                created_by=created_by,
            )
        if status == QuestionVersion.Status.PUBLISHED:
            question.versions.filter(status=QuestionVersion.Status.PUBLISHED).exclude(
                id=version.id
            ).update(status=QuestionVersion.Status.RETIRED)
    return version, True


@dataclass(frozen=True)
class BankLoadReport:
    topics: int
    questions: int
    changed: list[str]


def bank_load(*, path) -> BankLoadReport:
    """Load the YAML bank idempotently; a broken bank loads nothing (BankValidationError)."""
    from .bank_schema import load_valid_bank

    docs = load_valid_bank(path)
    changed: list[str] = []
    total = 0
    with transaction.atomic():
        for position, doc in enumerate(docs):
            meta = doc.topic
            topic = topic_upsert(
                slug=meta["slug"],
                title=meta["title"],
                description=meta.get("description", ""),
                position=position,
            )
            for data in doc.questions:
                total += 1
                _, was_changed = question_version_save(topic=topic, data=data)
                if was_changed:
                    changed.append(data["slug"])
    return BankLoadReport(topics=len(docs), questions=total, changed=changed)


class QuestionInvalid(ServiceError):
    """A question dict breaks the bank's rules; `details` lists {line, message}."""


def question_author_save(*, topic_slug: str, data: dict[str, Any], publish: bool, author) -> QuestionVersion:
    """Save an instructor's question as a draft, or publish it (a new version if it changed)."""
    from .bank_schema import validate_question

    errors = validate_question(data)
    topic = Topic.objects.filter(slug=topic_slug).first()
    if topic is None:
        raise QuestionInvalid(f"Unknown topic {topic_slug!r}.")
    if errors:
        raise QuestionInvalid(
            "The question has errors; nothing was saved.",
            details=[{"line": e.line, "message": e.message} for e in errors],
        )
    status = QuestionVersion.Status.PUBLISHED if publish else QuestionVersion.Status.DRAFT
    version, _ = question_version_save(topic=topic, data=data, status=status, created_by=author)
    return version


IMPORT_TOPIC = {"slug": "imported", "title": "Imported questions", "description": "Questions imported from GIFT or Moodle XML files."}


# Fields the interchange formats carry beyond the bank's own (kept, so exports stay faithful).
_INTERCHANGE_FIELDS = ("format", "category")


def _bank_fields(question: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in question.items() if k not in _INTERCHANGE_FIELDS}


@dataclass(frozen=True)
class ImportReport:
    saved: list[str]
    skipped: list[str]


def questions_import(*, text: str | bytes, format: str | None, author=None, publish: bool = False) -> ImportReport:
    """Import a GIFT or Moodle XML file: every question or none (a broken file saves nothing).

    Imported questions land in the "imported" topic as drafts unless `publish` is set; an
    existing slug gets a new version rather than being overwritten.
    """
    from .bank_schema import validate_question
    from .interchange import detect_format, parse

    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", errors="replace")
    questions = parse(text, format or detect_format(text))
    problems = []
    for question in questions:
        problems += [
            {"question": question.get("slug"), "line": e.line, "message": e.message}
            for e in validate_question(_bank_fields(question), complete=publish)
        ]
    if problems:
        raise QuestionInvalid("The file has questions the bank cannot hold; nothing was imported.", details=problems)
    status = QuestionVersion.Status.PUBLISHED if publish else QuestionVersion.Status.DRAFT
    saved = []
    with transaction.atomic():
        topic = topic_upsert(**IMPORT_TOPIC, position=Topic.objects.count())
        for question in questions:
            _, changed = question_version_save(topic=topic, data=question, status=status, created_by=author)
            if changed:
                saved.append(question["slug"])
    return ImportReport(saved=saved, skipped=[q["slug"] for q in questions if q["slug"] not in saved])
