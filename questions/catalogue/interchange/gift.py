"""GIFT import and export, read the way Moodle's ``question/format/gift/format.php`` reads it.

Import follows Moodle's ``readquestions()`` and ``readquestion()`` step by step: every line
is trimmed; questions are separated by blank lines; lines starting with ``//`` are comments
(``[id:...]`` and ``[tag:...]`` in them give the slug and tags, as in Moodle 3.6+);
``\\: \\# \\= \\{ \\} \\~ \\n \\\\`` are escapes; a block starting with ``$CATEGORY:``
switches the category; ``::title::`` names the question; ``[html]`` / ``[moodle]`` /
``[plain]`` / ``[markdown]`` at the start of a text sets its format; the first ``{...}`` holds
the answers, with general feedback after the last ``####``; text after the closing brace makes
a missing-word question whose prompt gets Moodle's blank ``_____`` where the braces were. The
answer block is typed as Moodle types it: ``{>N ...}`` ordering (core qtype_ordering, Moodle
4.4+), ``{}`` essay, ``{#...}`` numerical, any ``~`` multiple choice (single answer when some
answer starts with ``=``), ``=`` with ``->`` matching, ``T``/``TRUE``/``F``/``FALSE``
true/false, anything else short answer.

Where Moodle silently guesses, this importer refuses the file instead (nothing is imported):
an unclosed ``{`` or ``::``, a second answer block, ``%weight%`` that is not a number or not a
grade Moodle accepts, a numerical answer that is not a number, answers that cannot form a
question (no 100 % answer, positive weights not adding up to 100 %, a matching line without
``->``). A question without answer block is Moodle's *description*: refused too, or skipped
and reported with ``skip_unsupported=True``.

Export writes what Moodle's ``writequestion()`` writes (``// question:`` comment, ``// [id:]
[tag:]``, ``::name::``, escaped text, ``{`` answers one per line ``}``), so Moodle imports it.
What GIFT cannot carry is left out: hints, ``source``, ``difficulty``, numeric ``unit``,
``case_sensitive`` (Moodle's GIFT short answers are case-insensitive) and per-answer text
formats. Ordering items that core qtype_ordering cannot read raw (braces, escapes, line
breaks) are written as matching of each item to its position. A few questions cannot be
written at all and raise :class:`ExportFormatError`: a short answer containing ``->`` (Moodle
would read it as matching), a matching left side containing ``->``, weights that are not
Moodle grades.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from .common import (
    TEXT_FORMATS,
    check_choices,
    check_import_weight,
    check_scored_answers,
    export_answers,
    export_choices,
    export_tags,
    export_view,
    find_blank,
    finish_import,
    format_number,
    parse_number,
    tidy,
)
from .errors import ExportFormatError, ImportFormatError, SkippedQuestion

__all__ = ["dump", "parse"]

# Escaped control characters become noncharacters while the block is parsed, as Moodle turns
# them into "&&058;"-style placeholders, so that "\=" is never mistaken for an answer marker.
_PLACEHOLDERS = {":": "\ufdd0", "#": "\ufdd1", "=": "\ufdd2", "{": "\ufdd3", "}": "\ufdd4",
                 "~": "\ufdd5", "n": "\ufdd6"}
_RESTORE = str.maketrans({"\ufdd0": ":", "\ufdd1": "#", "\ufdd2": "=", "\ufdd3": "{",
                          "\ufdd4": "}", "\ufdd5": "~", "\ufdd6": "\n"})
_RESERVED_RE = re.compile("[\ufdd0-\ufdd6]")

# Moodle's $giftanswerweightregex accepts "%-50%", "%33.33333%", "%100%"; anything else in
# percent signs at the start of an answer is a typo we report rather than read as text.
_WEIGHT_RE = re.compile(r"%(-?\d+(?:\.\d*)?)%")
_WEIGHT_LIKE_RE = re.compile(r"%[^%\n]{0,20}%")

# core qtype_ordering's import_from_gift(): ">count [select] [layout] [grading] [show]
# [numbering]" then one item per line.
_ORDERING_RE = re.compile(
    r"^\s*>\s*(\d+)\s*"
    r"((?:ALL|EXACT|RANDOM|REL|CONTIGUOUS|CONTIG)?)\s*"
    r"((?:HORIZONTAL|HORI|H|1|VERTICAL|VERT|V|0)?)\s*"
    r"((?:ALL_OR_NOTHING|ABSOLUTE_POSITION|ABSOLUTE|ABS|RELATIVE_NEXT_EXCLUDE_LAST"
    r"|RELATIVE_NEXT_INCLUDE_LAST|RELATIVE_ONE_PREVIOUS_AND_NEXT|RELATIVE_ALL_PREVIOUS_AND_NEXT"
    r"|RELATIVE_TO_CORRECT|RELATIVE|REL|LONGEST_ORDERED_SUBSET|LONGEST_CONTIGUOUS_SUBSET)?)\s*"
    r"((?:SHOW|TRUE|YES|1|HIDE|FALSE|NO|0)?)\s*"
    r"((?:none|123|abc|ABCD|iii|IIII)?)\s*"
    r"(.*?)\s*$",
    re.S,
)
# What we write for ordering: every option spelled out, so that no item is taken for one.
_ORDERING_HEADER = "ALL VERTICAL ABSOLUTE_POSITION SHOW none"

_ID_RE = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f\x7f])+)\]")
_TAG_RE = re.compile(r"\[tag:((?:\\\]|[^\]<>\x00-\x1f\x7f])*)\]")

_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


class _Block:
    """The lines of one question, as Moodle's readquestion() sees them.

    ``text`` is the block with comment lines blanked, stripped, and escapes replaced by
    placeholders; :meth:`line` maps a position in ``text`` back to the line of the file.
    """

    def __init__(self, lines: list[str], first_line: int) -> None:
        self.first_line = first_line
        kept: list[str] = []
        comments: list[str] = []
        for line in lines:
            line = line.strip()  # Moodle's readquestions() trims every line of the file
            if line.startswith("//"):
                comments.append(line)
                kept.append(" ")  # Moodle blanks comment lines; the line count stays
            else:
                kept.append(line)
        self.comments = "\n".join(comments)
        self.raw = "\n".join(kept)
        found = _RESERVED_RE.search(self.raw)
        if found:
            raise ImportFormatError(
                f"the Unicode noncharacter U+{ord(found.group()):04X} cannot be imported",
                first_line + self.raw.count("\n", 0, found.start()))
        self.offset = len(self.raw) - len(self.raw.lstrip())
        self.text, self._index = _apply_escapes(self.raw.strip())

    def line(self, pos: int) -> int:
        raw_pos = self.offset + self._index[max(0, min(pos, len(self._index) - 1))]
        return self.first_line + self.raw.count("\n", 0, raw_pos)


def _apply_escapes(raw: str) -> tuple[str, list[int]]:
    """Replace ``\\\\`` by ``\\`` and ``\\:`` ``\\#``... by placeholders, keeping positions."""
    out: list[str] = []
    index: list[int] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw) and (raw[i + 1] == "\\" or raw[i + 1] in _PLACEHOLDERS):
            nxt = raw[i + 1]
            out.append("\\" if nxt == "\\" else _PLACEHOLDERS[nxt])
            index.append(i)
            i += 2
            continue
        out.append(ch)
        index.append(i)
        i += 1
    index.append(len(raw))
    return "".join(out), index


def _restore(text: str) -> str:
    """Placeholders back to the characters they stand for, then trimmed (Moodle's order)."""
    return text.translate(_RESTORE).strip()


def _with_format(text: str, default: str) -> tuple[str, str]:
    """Moodle's parse_text_with_format(): a leading ``[html]``-style tag sets the format."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end > 0 and text[1:end] in TEXT_FORMATS:
            return _restore(text[end + 1:]), text[1:end]
    return _restore(text), default


def _split(text: str, base: int, sep: str) -> list[tuple[str, int]]:
    """``text.split(sep)`` with the position (in the block) where each piece starts."""
    pieces: list[tuple[str, int]] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == sep:
            pieces.append((text[start:i], base + start))
            start = i + 1
    pieces.append((text[start:], base + start))
    return pieces


def _strip(piece: tuple[str, int]) -> tuple[str, int]:
    """Strip a piece, moving its start position past the leading whitespace."""
    text, pos = piece
    return text.strip(), pos + len(text) - len(text.lstrip())


def _drop_empty_first(pieces: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Moodle trims the text before the first answer marker and drops it if empty."""
    if pieces and not pieces[0][0].strip():
        return pieces[1:]
    return pieces


def _take_weight(text: str, pos: int, block: _Block) -> tuple[int | float | None, str, int]:
    """A leading ``%weight%``: (weight in percent, rest of the answer, where the rest starts)."""
    match = _WEIGHT_RE.match(text)
    if match:
        weight = check_import_weight(float(match.group(1)), block.line(pos))
        return weight, text[match.end():], pos + match.end()
    bad = _WEIGHT_LIKE_RE.match(text)
    if bad:
        raise ImportFormatError(
            f"bad answer weight {_restore(bad.group())!r}: write a percentage such as %50% or "
            "%-33.33333% (to start an answer with a literal %, give its weight first: ~%0%...)",
            block.line(pos))
    return None, text, pos


def _comment(text: str, fmt: str) -> tuple[str, str]:
    """Moodle's commentparser(): answer text and its ``#feedback``."""
    answer, _, feedback = text.partition("#")
    return _with_format(answer, fmt)[0], _with_format(feedback, fmt)[0]


def _read_multichoice(answer: str, apos: int, block: _Block, fmt: str,
                      line: int) -> dict[str, Any]:
    """Moodle's multichoice branch: ``=`` 100 %, ``~`` 0 % or ``~%w%``; single if any ``=``."""
    single = "=" in answer
    pieces: list[tuple[str, int]] = []
    start = 0
    for i, ch in enumerate(answer):
        # Moodle: str_replace("=", "~=") then explode("~"): "~" ends an answer, "=" starts one.
        if ch in "~=":
            pieces.append((answer[start:i], apos + start))
            start = i + 1 if ch == "~" else i
    pieces.append((answer[start:], apos + start))
    pieces = _drop_empty_first(pieces)
    choices: list[dict[str, Any]] = []
    for piece in pieces:
        text, pos = _strip(piece)
        if text.startswith("="):
            weight: int | float | None = 100
            text = text[1:]
        else:
            weight, text, pos = _take_weight(text, pos, block)
        choice_text, feedback = _comment(text, fmt)
        if not choice_text:
            continue  # Moodle drops blank choices when it saves the question
        choices.append({"text": choice_text, "weight": weight if weight is not None else 0,
                        "feedback": feedback})
    kind = "single_choice" if single else "multiple_response"
    check_choices(kind, choices, line)
    return {"type": kind, "choices": choices}


def _read_short_answer(answer: str, apos: int, block: _Block, fmt: str,
                       line: int) -> dict[str, Any]:
    """Moodle's shortanswer branch: ``=`` answers, 100 % unless ``=%w%``."""
    answers: list[dict[str, Any]] = []
    for piece in _drop_empty_first(_split(answer, apos, "=")):
        text, pos = _strip(piece)
        weight, text, pos = _take_weight(text, pos, block)
        weight = 100 if weight is None else weight
        if weight < 0:
            raise ImportFormatError("short-answer weights cannot be negative", block.line(pos))
        answer_text, feedback = _comment(text, fmt)
        if not answer_text:
            continue  # Moodle skips blank answers when it saves the question
        answers.append({"text": answer_text, "weight": weight, "feedback": feedback})
    check_scored_answers(answers, "short-answer", line)
    return {"type": "short_answer", "answers": answers, "case_sensitive": False}


def _read_number(text: str, pos: int, block: _Block) -> tuple[int | float, int | float]:
    """``3:2`` (value:tolerance), ``1.5..2.5`` (range) or ``3`` -> (value, tolerance)."""
    line = block.line(pos)
    dots = text.find("..")
    if dots > 0:
        lo, hi = text[:dots].strip(), text[dots + 2:].strip()
        if parse_number(lo) is None or parse_number(hi) is None:
            raise ImportFormatError(f"numerical range {text!r} is not two numbers", line)
        low, high = Decimal(lo), Decimal(hi)
        if low > high:
            raise ImportFormatError(f"numerical range {text!r} runs backwards", line)
        mid = (low + high) / 2
        return tidy(float(mid)), tidy(float(high - mid))
    colon = text.find(":")
    if colon > 0:
        value, tolerance = parse_number(text[:colon]), parse_number(text[colon + 1:])
        if value is None or tolerance is None:
            raise ImportFormatError(f"numerical answer {text!r} is not value:tolerance", line)
        if tolerance < 0:
            raise ImportFormatError(f"numerical tolerance in {text!r} is negative", line)
        return value, tolerance
    value = parse_number(text)
    if value is None:
        raise ImportFormatError(f"numerical answer {text!r} is not a number", line)
    return value, 0


def _read_numeric(answer: str, apos: int, block: _Block, fmt: str,
                  line: int) -> dict[str, Any]:
    """Moodle's numerical branch: ``#`` then ``=`` answers and an optional ``~#other`` feedback."""
    body, bpos = answer[1:], apos + 1
    other: str | None = None
    tilde = body.find("~")
    if tilde != -1:
        # "~#feedback" is the feedback for every other answer (Moodle's "*" answer).
        other = _comment(body[tilde:], fmt)[1]
        body = body[:tilde]
    answers: list[dict[str, Any]] = []
    for piece in _drop_empty_first(_split(body, bpos, "=")):
        text, pos = _strip(piece)
        weight, text, pos = _take_weight(text, pos, block)
        weight = 100 if weight is None else weight
        value_text, feedback = _comment(text, fmt)
        if value_text == "*":
            if weight != 0 or other is not None:
                raise ImportFormatError(
                    "a numerical '*' answer must be worth 0% and come once", block.line(pos))
            other = feedback
            continue
        if weight < 0:
            raise ImportFormatError("numerical weights cannot be negative", block.line(pos))
        value, tolerance = _read_number(value_text, pos, block)
        answers.append({"value": value, "tolerance": tolerance, "weight": weight,
                        "feedback": feedback})
    check_scored_answers(answers, "numerical", line)
    result: dict[str, Any] = {"type": "numeric", "answers": answers}
    if other:
        result["other_feedback"] = other
    return result


def _read_matching(answer: str, apos: int, block: _Block, fmt: str,
                   line: int) -> dict[str, Any]:
    """Moodle's match branch: ``=left -> right``; an empty left side is a distractor."""
    pairs: list[dict[str, str]] = []
    distractors: list[str] = []
    for piece in _drop_empty_first(_split(answer, apos, "=")):
        text, pos = _strip(piece)
        arrow = text.find("->")
        if arrow == -1:
            raise ImportFormatError(f"matching answer {_restore(text)!r} has no '->'",
                                    block.line(pos))
        left = _with_format(text[:arrow], fmt)[0]
        right = _restore(text[arrow + 2:])
        if not right:
            raise ImportFormatError("matching answer has nothing after '->'", block.line(pos))
        if left:
            pairs.append({"left": left, "right": right})
        else:
            distractors.append(right)  # "= -> Chat": an extra answer that matches nothing
    if len(pairs) < 2:
        raise ImportFormatError(f"a matching question needs at least 2 pairs, has {len(pairs)}",
                                line)
    return {"type": "matching", "pairs": pairs, "distractors": distractors}


def _read_true_false(answer: str, fmt: str) -> dict[str, Any]:
    """Moodle's truefalse branch."""
    # Moodle's split_truefalse_comment(): "TRUE#feedback if wrong#feedback if right".
    bits = answer.split("#", 2) + ["", ""]
    correct = _TRUE_FALSE[_with_format(bits[0], fmt)[0]]
    wrong, right = _with_format(bits[1], fmt)[0], _with_format(bits[2], fmt)[0]
    return {"type": "true_false", "answer": correct,
            "feedback_true": right if correct else wrong,
            "feedback_false": wrong if correct else right}


def _read_ordering(match: re.Match[str], line: int) -> dict[str, Any]:
    """The items of a qtype_ordering block, in their correct order."""
    items = [_restore(line) for line in re.split(r"[\r\n]+", match.group(7))]
    items = [item for item in items if item]
    if len(items) < 2:
        raise ImportFormatError(f"an ordering question needs at least 2 items, has {len(items)}",
                                line)
    return {"type": "ordering", "items": items}


def _read_answers(answer: str, apos: int, block: _Block, fmt: str,
                  line: int) -> dict[str, Any]:
    """Type the answer block the way Moodle does, in Moodle's order, and read it.

    ``apos`` is where ``answer`` starts in the block (for the line of each answer); ``line`` is
    the line of the opening brace, named by errors about the answers as a whole.
    """
    ordering = _ORDERING_RE.match(answer) if answer.startswith(">") else None
    if ordering:
        return _read_ordering(ordering, line)
    if answer == "":
        return {"type": "essay"}
    if answer.startswith("#"):
        return _read_numeric(answer, apos, block, fmt, line)
    if "~" in answer:
        return _read_multichoice(answer, apos, block, fmt, line)
    if "=" in answer and "->" in answer:
        return _read_matching(answer, apos, block, fmt, line)
    hash_at = answer.find("#")
    check = answer[:hash_at].strip() if hash_at > 0 else answer
    if check in _TRUE_FALSE:
        return _read_true_false(answer, fmt)
    return _read_short_answer(answer, apos, block, fmt, line)


def _comment_metadata(comments: str) -> tuple[str, list[str]]:
    """``[id:...]`` and ``[tag:...]`` from the comment lines, as Moodle 3.6+ reads them."""
    found = _ID_RE.search(comments)
    idnumber = found.group(1).replace("\\]", "]").strip() if found else ""
    tags = [t.replace("\\]", "]").strip() for t in _TAG_RE.findall(comments)]
    return idnumber, [t for t in tags if t]


def _read_block(block: _Block, category: str | None) -> dict[str, Any] | str | SkippedQuestion:
    """A draft question, a new category (``str``), or a description to skip."""
    text = block.text
    if text.startswith("$CATEGORY:"):
        rest = text[len("$CATEGORY:"):].strip()
        if "\n" in rest:
            raise ImportFormatError("put a blank line after the $CATEGORY line",
                                    block.line(text.index("\n", len("$CATEGORY:") + 1) + 1))
        return _restore(rest)

    title, body, bpos = "", text, 0
    if text.startswith("::"):
        end = text.find("::", 2)
        if end == -1:
            raise ImportFormatError("question title '::' is not closed by '::'", block.line(0))
        title = _restore(text[2:end])
        rest = text[end + 2:]
        bpos = end + 2 + len(rest) - len(rest.lstrip())
        body = rest.strip()

    open_at, close_at = body.find("{"), body.find("}")
    if open_at == -1 and close_at == -1:
        prompt = _with_format(body, "moodle")[0]
        return SkippedQuestion(block.line(0), "description", title or prompt[:40],
                               "a question without answer block is a Moodle description, "
                               "which FORMAT.md has no type for")
    if close_at == -1:
        raise ImportFormatError("'{' is never closed by '}'", block.line(bpos + open_at))
    if open_at == -1 or close_at < open_at:
        raise ImportFormatError("'}' without a matching '{' (escape it as \\})",
                                block.line(bpos + close_at))
    nested = body.find("{", open_at + 1, close_at)
    if nested != -1:
        raise ImportFormatError("'{' inside an answer block (escape it as \\{)",
                                block.line(bpos + nested))
    after = body[close_at + 1:]
    extra = re.search("[{}]", after)
    if extra:
        raise ImportFormatError(
            "a question may have only one answer block (escape literal braces as \\{ \\})",
            block.line(bpos + close_at + 1 + extra.start()))

    # Missing word: text after the answers keeps its place, with Moodle's blank in between.
    question_text = body[:open_at] + ("_____" + after if after else "")
    inner = body[open_at + 1:close_at]
    apos = bpos + open_at + 1 + len(inner) - len(inner.lstrip())
    answer = inner.strip()
    general = ""
    gf_at = answer.rfind("####")
    if gf_at != -1:
        general, answer = answer[gf_at + 4:], answer[:gf_at].strip()

    prompt, fmt = _with_format(question_text, "moodle")
    explanation = _with_format(general, fmt)[0]
    draft = _read_answers(answer, apos, block, fmt, line=block.line(bpos + open_at))
    idnumber, tags = _comment_metadata(block.comments)
    draft.update({"title": title, "prompt": prompt, "explanation": explanation, "format": fmt,
                  "category": category, "moodle_tags": tags, "idnumber": idnumber, "hints": []})
    return draft


def _blocks(text: str) -> Iterable[_Block]:
    """Blank-line separated blocks, each with the number of its first line."""
    current: list[str] = []
    first = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                first = number
            current.append(line)
        elif current:
            yield _Block(current, first)
            current = []
    if current:
        yield _Block(current, first)


def _decode(data: str | bytes) -> str:
    """Text with Unix line ends; bytes are read as UTF-8, as Moodle reads GIFT files."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ImportFormatError("the file is not UTF-8 text", line) from exc
    return data.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse(text: str | bytes, *, filename: str | None = None, skip_unsupported: bool = False,
          skipped: list[SkippedQuestion] | None = None) -> list[dict[str, Any]]:
    """Read a GIFT file into neutral question dicts (FORMAT.md shape plus ``format``/``category``).

    Raises :class:`ImportFormatError` naming the line for a broken file; nothing is returned
    then. Description questions raise too, unless ``skip_unsupported`` is true: then they are
    left out and, if ``skipped`` is a list, reported in it.
    """
    results: list[dict[str, Any] | SkippedQuestion] = []
    category: str | None = None
    for block in _blocks(_decode(text)):
        if not block.text:
            continue  # only comments
        result = _read_block(block, category)
        if isinstance(result, str):
            category = result or None
        else:
            results.append(result)
    return finish_import(results, "GIFT file", filename, skip_unsupported=skip_unsupported,
                         skipped=skipped)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """Moodle's repchar(): escape ``\\ # = ~ { } :`` and write newlines as ``\\n``."""
    text = text.replace("\\", "\\\\")
    for ch in "#=~{}:":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r", "").replace("\n", "\\n")


def _text(text: str, fmt: str, default: str) -> str:
    """A text as Moodle's write_questiontext() writes it, with its ``[format]`` when needed.

    The tag is also written when the text itself starts with ``[``, so that ``[html] is a
    tag`` is not read back as a format tag.
    """
    tag = f"[{fmt}]" if text and (fmt != default or text.startswith("[")) else ""
    return tag + _esc(text)


def _general(q: Mapping[str, Any], indent: str) -> str:
    """The ``####`` general feedback, on its own indented line when ``indent`` is set."""
    if not q["explanation"]:
        return ""
    text = "####" + _text(q["explanation"], q["format"], q["format"])
    return f"{indent}{text}\n" if indent else text


def _choices_block(q: Mapping[str, Any]) -> str:
    """Moodle's multichoice export: ``=`` for the single right answer, else weights."""
    fmt = q["format"]
    lines = []
    for choice in export_choices(q):
        text, weight = choice["text"], choice["weight"]
        if weight == 100 and q["type"] == "single_choice":
            mark = "="
        elif weight == 0 and not text.startswith("%"):
            mark = "~"
        else:
            mark = f"~%{format_number(weight)}%"  # also keeps a text starting with "%" a text
        feedback = choice.get("feedback") or ""
        line = "\t" + mark + _text(text, fmt, fmt)
        if feedback:
            line += "#" + _text(feedback, fmt, fmt)
        lines.append(line + "\n")
    return "\n" + "".join(lines) + _general(q, "\t")


def _true_false_block(q: Mapping[str, Any]) -> str:
    """``TRUE#feedback if wrong#feedback if right``, as Moodle writes it."""
    fmt = q["format"]
    correct = bool(q["answer"])
    right = q.get("feedback_true" if correct else "feedback_false") or ""
    wrong = q.get("feedback_false" if correct else "feedback_true") or ""
    out = "TRUE" if correct else "FALSE"
    if wrong:
        out += "#" + _text(wrong, fmt, fmt)
    elif right:
        out += "#"
    if right:
        out += "#" + _text(right, fmt, fmt)
    return out + _general(q, "")


def _numeric_block(q: Mapping[str, Any]) -> str:
    """``{#`` then ``=%w%value:tolerance#feedback`` lines and ``~#other``."""
    fmt = q["format"]
    lines = [f"\t=%{format_number(a['weight'])}%{format_number(a['value'])}:"
             f"{format_number(a['tolerance'])}#{_text(a.get('feedback') or '', fmt, fmt)}\n"
             for a in export_answers(q)]
    if q.get("other_feedback"):
        lines.append("\t~#" + _text(q["other_feedback"], fmt, fmt) + "\n")
    return "#\n" + "".join(lines) + _general(q, "\t")


def _short_answer_block(q: Mapping[str, Any]) -> str:
    """``=%w%answer#feedback`` lines, as Moodle writes them."""
    fmt = q["format"]
    lines = []
    for a in export_answers(q):
        feedback = a.get("feedback") or ""
        if "->" in a["text"] or "->" in feedback:
            # Moodle types any block with "=" and "->" as matching; there is no escape for it.
            raise ExportFormatError("GIFT cannot write '->' in a short answer or its feedback",
                                    q["slug"])
        lines.append(f"\t=%{format_number(a['weight'])}%{_text(a['text'], fmt, fmt)}"
                     f"#{_text(feedback, fmt, fmt)}\n")
    return "\n" + "".join(lines) + _general(q, "\t")


def _matching_lines(q: Mapping[str, Any], pairs: list[tuple[str, str]],
                    distractors: Iterable[str]) -> str:
    """``=left -> right`` lines; distractors as ``= -> right``."""
    fmt, slug = q["format"], q["slug"]
    if len(pairs) < 2:
        raise ExportFormatError("a matching question needs at least 2 pairs", slug)
    lines = []
    for left, right in pairs:
        if "->" in left:
            raise ExportFormatError(f"GIFT cannot write '->' in a matching left side ({left!r})",
                                    slug)
        if not left.strip() or not right.strip():
            raise ExportFormatError("a matching pair has an empty side", slug)
        lines.append(f"\t={_text(left, fmt, fmt)} -> {_esc(right)}\n")
    for right in distractors:
        lines.append(f"\t= -> {_esc(right)}\n")
    return "\n" + "".join(lines) + _general(q, "\t")


def _ordering_writable(q: Mapping[str, Any]) -> bool:
    """Whether core qtype_ordering's GIFT syntax can carry these items unchanged.

    Items are written raw, one per line (the plugin does not unescape them), so they must be
    single lines without braces, GIFT escapes (``\\:``, ``\\n``...) or ``####``, and must not
    look like ``//`` comments. A lone backslash, as in LaTeX's ``\\sqrt``, is fine.
    """
    return all(
        item.strip() and not re.search(r"[{}\n\r]|####|\\[\\:#={}~n]", item)
        and not item.strip().startswith("//")
        for item in q["items"]
    )


def _ordering_block(q: Mapping[str, Any]) -> str:
    """core qtype_ordering's syntax, or matching to positions when it cannot carry the items."""
    items = q["items"]
    if len(items) < 2:
        raise ExportFormatError("an ordering question needs at least 2 items", q["slug"])
    if not _ordering_writable(q):
        # Fallback: match each item to its position, which any Moodle imports.
        return _matching_lines(q, [(item, str(i)) for i, item in enumerate(items, 1)], [])
    lines = "".join(item.strip() + "\n" for item in items)  # Moodle trims them anyway
    return f">{len(items)} {_ORDERING_HEADER}\n{lines}{_general(q, '')}" + (
        "\n" if q["explanation"] else "")


def _answer_block(q: Mapping[str, Any]) -> str:
    """The inside of the braces for the question's type."""
    kind = q["type"]
    if kind in ("single_choice", "multiple_response"):
        return _choices_block(q)
    if kind == "true_false":
        return _true_false_block(q)
    if kind == "numeric":
        return _numeric_block(q)
    if kind == "short_answer":
        return _short_answer_block(q)
    if kind == "matching":
        return _matching_lines(q, [(p["left"], p["right"]) for p in q["pairs"]],
                               q.get("distractors") or [])
    if kind == "ordering":
        return _ordering_block(q)
    return _general(q, "")  # essay


def _comment_line(text: str) -> str:
    """A text made safe for a ``//`` comment line."""
    # A comment copy of the title must not read as [id:] / [tag:] or break the line.
    return " ".join(text.replace("[", "(").replace("]", ")").split())


def _metadata(q: Mapping[str, Any]) -> str:
    """The ``// [id:slug] [tag:...]`` line Moodle 3.6+ reads back."""
    bits = []
    for kind, value in [("id", q["slug"])] + [("tag", t) for t in export_tags(q)]:
        if not value:
            continue
        if re.search(r"[\x00-\x1f\x7f]", value) or (kind == "tag" and re.search("[<>]", value)):
            raise ExportFormatError(f"GIFT cannot write the {kind} {value!r}", q["slug"])
        bits.append(f"[{kind}:{value.replace(']', chr(92) + ']')}]")
    return f"// {' '.join(bits)}\n" if bits else ""


def _write_question(q: Mapping[str, Any], number: int) -> str:
    """One question: comment lines, then ``::title::prompt{answers}``."""
    fmt = q["format"]
    out = f"// question: {number}  name: {_comment_line(q['title'])}\n" + _metadata(q)
    out += f"::{_esc(q['title'])}::"
    block = "{" + _answer_block(q) + "}"
    prompt = q["prompt"]
    tag = f"[{fmt}]" if prompt and (fmt != "moodle" or prompt.startswith("[")) else ""
    blank = find_blank(prompt)
    if blank:
        before, after = blank
        out += tag + _esc(before) + block + _esc(after)
    else:
        out += tag + _esc(prompt) + block
    return out + "\n"


def dump(questions: Iterable[Mapping[str, Any]]) -> str:
    """Write neutral question dicts as a GIFT file Moodle imports.

    A ``category`` is written as a ``$CATEGORY:`` line whenever it changes. Raises
    :class:`ExportFormatError` for a question GIFT cannot carry faithfully.
    """
    parts: list[str] = []
    current: str | None = None
    for number, raw in enumerate(questions, start=1):
        q = export_view(raw)
        category = q["category"]
        if category and category != current:
            if re.search(r"[\x00-\x1f\x7f]", category):
                raise ExportFormatError(f"GIFT cannot write the category {category!r}", q["slug"])
            parts.append(f"// question: 0  name: Switch category to {_comment_line(category)}\n"
                         f"$CATEGORY: {category}\n")
            current = category
        parts.append(_write_question(q, number))
    return "\n".join(parts)
