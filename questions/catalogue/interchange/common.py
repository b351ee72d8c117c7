"""Helpers shared by the GIFT and Moodle XML converters.

Both converters read a file into *draft* dicts (the neutral shape of
``questions/bank/FORMAT.md`` plus Moodle's ``idnumber``, its raw tags and the source line) and
hand them to :func:`finish_import`, which gives every question its slug, title, source,
difficulty and tags the same way whichever format it came from. On the way out,
:func:`export_view` fills in the defaults a bank question may leave implicit.

Weights are percentages, as in FORMAT.md (Moodle stores fractions: 33.33333 % is 0.3333333).
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from questions.catalogue.schema import full_credit_count, positive_weights_sum_to_100

from .errors import ExportFormatError, ImportFormatError, SkippedQuestion

__all__ = [
    "DEFAULT_EXPORT_FORMAT",
    "MOODLE_GRADES",
    "TEXT_FORMATS",
    "category_tag",
    "check_choices",
    "check_import_weight",
    "check_scored_answers",
    "default_title",
    "export_answers",
    "export_choices",
    "export_tags",
    "export_view",
    "find_blank",
    "finish_import",
    "format_number",
    "match_moodle_grade",
    "parse_number",
    "plain_text",
    "slugify",
    "snap_export_weight",
    "tidy",
]

#: The text formats Moodle knows, by the names GIFT uses in ``[format]`` tags.
TEXT_FORMATS = ("moodle", "html", "plain", "markdown")

#: Bank prompts are Markdown with LaTeX (FORMAT.md), so a dict without ``format`` is Markdown.
DEFAULT_EXPORT_FORMAT = "markdown"

#: The answer grades Moodle accepts, in percent (``question_bank::fraction_options_full``).
#: Moodle's importer rejects any other grade ("invalid grade"), so we do too.
_POSITIVE_GRADES = (
    100.0, 90.0, 83.33333, 80.0, 75.0, 70.0, 66.66667, 60.0, 50.0, 40.0, 33.33333, 30.0,
    25.0, 20.0, 16.66667, 14.28571, 12.5, 11.11111, 10.0, 5.0,
)
MOODLE_GRADES: tuple[float, ...] = (*_POSITIVE_GRADES, 0.0, *(-g for g in _POSITIVE_GRADES))

# Moodle's match_grade_options() compares fractions with a tolerance of 1e-5, i.e. 0.001 %.
_IMPORT_GRADE_TOLERANCE = 0.001
# On export we let a hand-rounded weight such as 33.33 (or 33.3) stand for Moodle's 33.33333:
# the grade changes by at most 0.05 % of the mark, and the file then imports.
_EXPORT_GRADE_TOLERANCE = 0.05

# PHP's is_numeric(), which Moodle uses for numerical answers: no inf/nan/underscores/hex.
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

# Moodle's context prefixes in category paths ($course$/top/...); not part of the name.
_CONTEXT_RE = re.compile(r"^\$[a-z]+\$$")


def tidy(value: float) -> int | float:
    """``2.0`` -> ``2`` so that weights and values read as they were written."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def parse_number(text: str) -> int | float | None:
    """A number as PHP's ``is_numeric`` reads it, or ``None``; integers stay ``int``."""
    text = text.strip()
    if not _NUMBER_RE.fullmatch(text):
        return None
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    value = float(text)
    return value if math.isfinite(value) else None


def format_number(value: float) -> str:
    """Shortest text that reads back as the same number (``3``, ``0.5``, ``1e-05``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def match_moodle_grade(weight: float) -> float | None:
    """The Moodle grade ``weight`` (percent) stands for on import, or ``None`` if none."""
    for grade in MOODLE_GRADES:
        if abs(weight - grade) < _IMPORT_GRADE_TOLERANCE:
            return grade
    return None


def snap_export_weight(weight: float, slug: str | None) -> float:
    """The Moodle grade to write for ``weight``; raises if the weight is not near any."""
    nearest = min(MOODLE_GRADES, key=lambda grade: abs(grade - weight))
    if abs(nearest - weight) > _EXPORT_GRADE_TOLERANCE:
        raise ExportFormatError(
            f"weight {format_number(weight)}% is not a grade Moodle accepts "
            f"(nearest: {format_number(nearest)}%)", slug)
    return nearest


def check_import_weight(weight: float, line: int) -> int | float:
    """A weight read from a file, snapped to Moodle's grade list (as Moodle does) or refused."""
    grade = match_moodle_grade(weight)
    if grade is None:
        nearest = min(MOODLE_GRADES, key=lambda g: abs(g - weight))
        raise ImportFormatError(
            f"weight {format_number(weight)}% is not a grade Moodle accepts "
            f"(nearest: {format_number(nearest)}%)", line)
    return tidy(grade)


def slugify(text: str, max_length: int = 60) -> str:
    """``"Why is the mask triangular?"`` -> ``"why-is-the-mask-triangular"`` (may be empty)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"(\w)'(\w)", r"\1\2", ascii_text)  # "Grant's" -> "grants"
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug.rfind("-", 0, max_length + 1)
        slug = slug[: cut if cut > 0 else max_length].strip("-")
    return slug


def category_tag(category: str | None) -> str:
    """The tag carrying a Moodle category path: ``$course$/top/Iota/Kappa`` -> ``iota-kappa``.

    The context marker (``$course$``, ``$system$``...) and Moodle's ``top`` level are dropped:
    they say where the category lives, not what it is about.
    """
    if not category:
        return ""
    parts = [p.strip() for p in category.split("/") if p.strip()]
    if parts and _CONTEXT_RE.match(parts[0]):
        parts = parts[1:]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return slugify(" ".join(parts), max_length=80)


def plain_text(text: str) -> str:
    """Text without HTML tags and with whitespace collapsed (for titles and slugs)."""
    without_tags = re.sub(r"<[^>]*>", " ", text)
    return " ".join(html.unescape(without_tags).split())


def default_title(prompt: str) -> str:
    """A title from the first words of the prompt, as Moodle names an unnamed question."""
    text = plain_text(prompt)
    if len(text) <= 80:
        return text or "Question"
    cut = text.rfind(" ", 0, 78)
    return text[: cut if cut > 0 else 77].rstrip() + "..."


_BLANK_RE = re.compile(r"(?<!_)_____(?!_)")


def find_blank(prompt: str) -> tuple[str, str] | None:
    """Split a missing-word prompt at its blank ``_____``, or ``None`` if it has no usable one.

    Usable: exactly one run of exactly five underscores with text after it (a blank at the very
    end is an ordinary prompt: GIFT would read ``text {answers}`` back without a blank).
    """
    matches = list(_BLANK_RE.finditer(prompt))
    if len(matches) != 1:
        return None
    before, after = prompt[: matches[0].start()], prompt[matches[0].end():]
    if not after.strip():
        return None
    return before, after


# ---------------------------------------------------------------------------------------------
# Checks shared by both importers: answers that cannot form a question
# ---------------------------------------------------------------------------------------------


def check_choices(kind: str, choices: list[dict[str, Any]], line: int) -> None:
    """Raise if ``choices`` cannot form a ``single_choice`` / ``multiple_response`` question."""
    if len(choices) < 2:
        raise ImportFormatError(f"a choice question needs at least 2 choices, has {len(choices)}",
                                line)
    weights = [c["weight"] for c in choices]
    if kind == "single_choice":
        full = full_credit_count(weights)
        if full != 1:
            raise ImportFormatError(
                f"a single-answer choice question needs exactly one 100% choice, has {full}", line)
        if any(w < 0 for w in weights):
            raise ImportFormatError(
                "negative weights in a single-answer choice question are not supported "
                "(FORMAT.md: single_choice weights lie in [0, 100])", line)
    else:
        positive = sum(w for w in weights if w > 0)
        if not positive_weights_sum_to_100(weights):
            raise ImportFormatError(
                "the positive weights of a multiple-answer question must add up to 100%, "
                f"they add up to {format_number(tidy(round(positive, 5)))}%", line)


def check_scored_answers(answers: list[dict[str, Any]], what: str, line: int) -> None:
    """Raise unless some answer of a short-answer / numeric question is worth 100%."""
    if not answers:
        raise ImportFormatError(f"a {what} question needs at least one answer", line)
    if max(a["weight"] for a in answers) != 100:
        raise ImportFormatError(f"a {what} question needs an answer worth 100%", line)


# ---------------------------------------------------------------------------------------------
# Import: from drafts to neutral dicts
# ---------------------------------------------------------------------------------------------

_TYPE_KEYS = {
    "single_choice": ("choices",),
    "multiple_response": ("choices",),
    "true_false": ("answer", "feedback_true", "feedback_false"),
    "numeric": ("answers", "unit", "other_feedback"),
    "short_answer": ("answers", "case_sensitive"),
    "matching": ("pairs", "distractors"),
    "ordering": ("items",),
    "essay": (),
}


def finish_import(results: Iterable[dict[str, Any] | SkippedQuestion], label: str,
                  filename: str | None, *, skip_unsupported: bool,
                  skipped: list[SkippedQuestion] | None) -> list[dict[str, Any]]:
    """Turn what an importer read, in file order, into neutral question dicts.

    ``results`` holds drafts and :class:`SkippedQuestion` s. A skipped question is an
    :class:`ImportFormatError` unless ``skip_unsupported``; then it goes to ``skipped`` (when a
    list is given). A draft has ``type``, ``title`` (may be empty), ``prompt``,
    ``explanation``, ``format``, ``category`` (or ``None``), ``moodle_tags``, ``idnumber`` (may
    be empty), ``hints`` and its type's fields. Slugs come from the idnumber, else the title,
    and are made unique within the file by a ``-2``, ``-3``... suffix.
    """
    drafts: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, SkippedQuestion):
            if not skip_unsupported:
                raise ImportFormatError(f"{result.reason} (import with skip_unsupported to "
                                        "leave it out)", result.line)
            if skipped is not None:
                skipped.append(result)
        else:
            drafts.append(result)

    questions: list[dict[str, Any]] = []
    used: set[str] = set()
    where = f"{label} '{filename}'" if filename else label
    for draft in drafts:
        title = draft["title"].strip() or default_title(draft["prompt"])
        base = slugify(draft["idnumber"]) or slugify(title) or "question"
        slug, n = base, 1
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)

        category = draft["category"]
        tags: list[str] = []
        for raw in [*draft["moodle_tags"], category_tag(category)]:
            tag = slugify(raw, max_length=80)
            if tag and tag not in tags:
                tags.append(tag)
        source = f"Imported from {where}"
        if category:
            source += f" (Moodle category: {category})"

        question: dict[str, Any] = {
            "slug": slug,
            "type": draft["type"],
            "difficulty": "medium",  # Moodle has no difficulty; FORMAT.md's middle value
            "tags": tags,
            "title": title,
            "prompt": draft["prompt"],
            "explanation": draft["explanation"],
            "source": source,
            "hints": list(draft["hints"]),
            "format": draft["format"],
        }
        if category:
            question["category"] = category
        for key in _TYPE_KEYS[draft["type"]]:
            if key in draft:
                question[key] = draft[key]
        questions.append(question)
    return questions


# ---------------------------------------------------------------------------------------------
# Export: defaults a bank dict may leave out
# ---------------------------------------------------------------------------------------------


def export_view(question: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``question`` with every field the writers read present.

    Raises :class:`ExportFormatError` for a question that is not a FORMAT.md question at all
    (unknown type, missing prompt).
    """
    q = dict(question)
    slug = q.get("slug")
    kind = q.get("type")
    if kind not in _TYPE_KEYS:
        raise ExportFormatError(f"unknown question type {kind!r}", slug)
    if not isinstance(q.get("prompt"), str):
        raise ExportFormatError("the question has no prompt", slug)
    fmt = q.get("format") or DEFAULT_EXPORT_FORMAT
    if fmt not in TEXT_FORMATS:
        raise ExportFormatError(f"unknown text format {fmt!r} (one of {', '.join(TEXT_FORMATS)})",
                                slug)
    q["format"] = fmt
    q["slug"] = slug if isinstance(slug, str) else ""
    q["title"] = (q.get("title") or "").strip() or q["slug"] or default_title(q["prompt"])
    q["explanation"] = q.get("explanation") or ""
    q["tags"] = list(q.get("tags") or [])
    q["hints"] = [h for h in (q.get("hints") or []) if isinstance(h, str) and h.strip()]
    q["category"] = q.get("category") or None
    return q


def _as_export_error(check: Any, slug: str, *args: Any) -> None:
    """Run an import check on data about to be written; its complaint becomes an export error."""
    try:
        check(*args, 0)
    except ImportFormatError as exc:
        raise ExportFormatError(exc.message, slug) from exc


def export_choices(q: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The choices to write, weights as Moodle grades; raises if they cannot form the question."""
    slug = q["slug"]
    choices = [dict(c, weight=tidy(snap_export_weight(c["weight"], slug))) for c in q["choices"]]
    if any(not str(c.get("text") or "").strip() for c in choices):
        raise ExportFormatError("a choice has no text", slug)
    _as_export_error(check_choices, slug, q["type"], choices)
    return choices


def export_answers(q: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The answers of a short-answer or numeric question to write, weights as Moodle grades."""
    slug = q["slug"]
    answers = [dict(a, weight=tidy(snap_export_weight(a["weight"], slug))) for a in q["answers"]]
    if q["type"] == "numeric":
        if any(a["tolerance"] < 0 for a in answers):
            raise ExportFormatError("a numerical tolerance is negative", slug)
        _as_export_error(check_scored_answers, slug, answers, "numerical")
    else:
        if any(not str(a.get("text") or "").strip() for a in answers):
            raise ExportFormatError("a short answer has no text", slug)
        _as_export_error(check_scored_answers, slug, answers, "short-answer")
    return answers


def export_tags(q: Mapping[str, Any]) -> list[str]:
    """The tags to write as Moodle tags: all but the one :func:`finish_import` derives again."""
    derived = category_tag(q.get("category"))
    return [t for t in q["tags"] if t != derived]
