"""Writes of the catalogue: topics, question versions, the YAML bank load, authoring and import.

Every function is keyword-only, runs in a transaction and is safe to repeat."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from questions.catalogue.interchange import detect_format, parse
from questions.catalogue.models import Question, QuestionVersion, Topic
from questions.catalogue.schema import load_valid_bank, validate_question
from questions.errors import QuestionInvalid


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
    owner=None,
) -> tuple[QuestionVersion, bool]:
    """Store `data` as the question's current content. Returns (version, changed).

    `owner` is the course the question belongs to (None: the public bank). A slug belongs to
    one owner for good: saving it for another is refused, so nobody edits a question that is
    not theirs. Who may save for an owner is the caller's check (`questions.courses.services`).

    The same content again changes nothing. New content makes a new version: a published version
    is never edited in place, so what a graded submission points at stays as it was graded.
    A draft is edited in place (nobody has answered it).
    """
    content_hash = _content_hash(data)
    with transaction.atomic():
        question, _ = Question.objects.select_for_update().get_or_create(
            slug=data["slug"], defaults={"topic": topic, "owner": owner}
        )
        if question.owner_id != (owner.id if owner is not None else None):
            raise QuestionInvalid(
                f"The slug {data['slug']!r} is taken by a question you cannot edit; choose another slug."
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


def question_author_save(
    *, topic_slug: str, data: dict[str, Any], publish: bool, author, owner=None
) -> QuestionVersion:
    """Save an author's question for `owner` as a draft, or publish it (a new version if it
    changed). The caller has checked that `author` may write for `owner`."""
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
    version, _ = question_version_save(topic=topic, data=data, status=status, created_by=author, owner=owner)
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


def questions_import(
    *, text: str | bytes, format: str | None, author=None, publish: bool = False, owner=None
) -> ImportReport:
    """Import a GIFT or Moodle XML file: every question or none (a broken file saves nothing).

    Imported questions land in the "imported" topic as drafts unless `publish` is set; an
    existing slug gets a new version rather than being overwritten.
    """
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
            _, changed = question_version_save(
                topic=topic, data=question, status=status, created_by=author, owner=owner
            )
            if changed:
                saved.append(question["slug"])
    return ImportReport(saved=saved, skipped=[q["slug"] for q in questions if q["slug"] not in saved])

