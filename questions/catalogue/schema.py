"""Load and validate the theory question bank (``questions/bank/*.yaml``).

The rules are those of ``questions/bank/FORMAT.md``. Parsing goes through PyYAML's composer so
that every node keeps its position: each problem is reported as a :class:`BankError` naming the
file *and* the line of the offending node. Questions come back as plain dicts in the neutral
shape of FORMAT.md (the same shape the Django loader and GIFT / Moodle XML import and export
use), with the optional list fields filled in.

Pure Python: no Django, no torch. Typical use::

    docs = load_valid_bank(Path("questions/bank"))     # raises BankValidationError
    for doc in docs:
        for question in doc.questions: ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DIFFICULTIES",
    "QUESTION_TYPES",
    "SLUG_RE",
    "BankError",
    "BankValidationError",
    "TopicDoc",
    "load_bank_dir",
    "load_bank_file",
    "load_valid_bank",
    "validate",
    "validate_question",
]

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DIFFICULTIES = ("easy", "medium", "hard")
QUESTION_TYPES = (
    "single_choice",
    "multiple_response",
    "true_false",
    "numeric",
    "short_answer",
    "matching",
    "ordering",
    "essay",
)

_COMMON_REQUIRED = ("slug", "type", "difficulty", "title", "prompt", "explanation", "source")
_COMMON_OPTIONAL = ("tags", "hints")
_TYPE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type: (required fields, optional fields)
    "single_choice": (("choices",), ()),
    "multiple_response": (("choices",), ()),
    "true_false": (("answer", "feedback_true", "feedback_false"), ()),
    "numeric": (("answers",), ("unit", "engine", "other_feedback")),
    "short_answer": (("answers",), ("case_sensitive",)),
    "matching": (("pairs",), ("distractors",)),
    "ordering": (("items",), ()),
    "essay": ((), ()),
}
_TOPIC_FIELDS = ("slug", "title", "description")
# Moodle's rule, round(sum / 100, 2) == 1: lets 3 x 33.33333 (or 33.33, 33.33, 33.34) through.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # every control character but newline

Path_ = tuple[str | int, ...]  # a position inside one YAML document: keys and list indices


def _line_of(lines: Mapping[Path_, int], path: Path_) -> int | None:
    """Line of the node at ``path``, or of its nearest ancestor that has one."""
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


@dataclass(frozen=True)
class BankError:
    """One problem in the bank, at ``file:line`` (``line`` is 1-based; ``None`` if unknown)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class BankValidationError(Exception):
    """Raised by :func:`load_valid_bank`; ``errors`` lists every problem, not just the first."""

    def __init__(self, errors: list[BankError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass
class TopicDoc:
    """One bank file: the parsed document and the line of every node in it.

    ``data`` is ``{"topic": {...}, "questions": [...]}`` as plain dicts and lists; ``lines``
    maps a path such as ``("questions", 3, "choices", 1, "weight")`` to the 1-based line of
    that node (``()`` is the document itself).
    """

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    @property
    def topic(self) -> dict[str, Any]:
        topic = self.data.get("topic") if isinstance(self.data, dict) else None
        return topic if isinstance(topic, dict) else {}

    @property
    def questions(self) -> list[dict[str, Any]]:
        questions = self.data.get("questions") if isinstance(self.data, dict) else None
        if not isinstance(questions, list):
            return []
        return [q for q in questions if isinstance(q, dict)]

    def line(self, path: Path_) -> int | None:
        """Line of the node at ``path``, or of its nearest ancestor that exists."""
        return _line_of(self.lines, path)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composed nodes we turn into Python values ourselves (see ``_build``)."""


def _build(node: yaml.Node, loader: _Loader, path: Path_, lines: dict[Path_, int],
           errors: list[BankError], file: str) -> Any:
    """Turn a composed node into plain Python, recording the line of every node.

    Done by hand rather than by ``construct_document`` so that duplicate mapping keys (which
    PyYAML silently lets the last one win) are errors, and so that each value's line is kept.
    """
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                errors.append(BankError(file, key_line, "mapping keys must be plain strings"))
                continue
            key = loader.construct_object(key_node, deep=True)
            if key == "<<":
                errors.append(BankError(file, key_line, "YAML merge keys ('<<') are not allowed"))
                continue
            if not isinstance(key, str):
                errors.append(BankError(file, key_line, f"mapping key {key!r} must be a string"))
                continue
            if key in result:
                errors.append(BankError(file, key_line, f"duplicate key '{key}'"))
                continue
            result[key] = _build(value_node, loader, (*path, key), lines, errors, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, loader, (*path, i), lines, errors, file)
            for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _parse(text: str, file: str) -> tuple[TopicDoc, list[BankError]]:
    """Parse one YAML text; syntax errors and duplicate keys come back as errors."""
    errors: list[BankError] = []
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return TopicDoc(file, None, {}), [BankError(file, 1, "the file is empty")]
        lines: dict[Path_, int] = {}
        data = _build(root, loader, (), lines, errors, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        context = f" ({exc.context})" if exc.context else ""
        return TopicDoc(file, None, {}), [BankError(file, line, f"YAML syntax: {problem}{context}")]
    except yaml.YAMLError as exc:
        return TopicDoc(file, None, {}), [BankError(file, None, f"YAML error: {exc}")]
    finally:
        loader.dispose()
    return TopicDoc(file, data, lines), errors


def _rstrip_strings(value: Any) -> Any:
    """Every string without trailing white space (``|`` block scalars end in a newline)."""
    if isinstance(value, str):
        return value.rstrip()
    if isinstance(value, list):
        return [_rstrip_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _rstrip_strings(v) for k, v in value.items()}
    return value


def _fill_defaults(doc: TopicDoc) -> None:
    """Tidy the texts and give every question its optional list fields.

    Trailing newlines are dropped so that a question survives a GIFT / Moodle XML round trip
    unchanged; the defaults spare consumers the ``.get`` dance.
    """
    if isinstance(doc.data, dict):
        doc.data = _rstrip_strings(doc.data)
    for question in doc.questions:
        question.setdefault("tags", [])
        question.setdefault("hints", [])
        kind = question.get("type")
        if kind == "short_answer":
            question.setdefault("case_sensitive", False)
        elif kind == "matching":
            question.setdefault("distractors", [])


def load_bank_file(path: str | Path) -> TopicDoc:
    """Parse one bank file.

    Raises :class:`BankValidationError` if the YAML itself cannot be read (syntax errors,
    duplicate keys); content rules are checked by :func:`validate`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BankValidationError([BankError(str(path), None, f"cannot read: {exc}")]) from exc
    doc, errors = _parse(text, str(path))
    if errors:
        raise BankValidationError(errors)
    _fill_defaults(doc)
    return doc


def load_bank_dir(path: str | Path) -> list[TopicDoc]:
    """Parse every ``*.yaml`` file of a folder, in file-name order.

    Raises :class:`BankValidationError` listing the YAML problems of all files at once.
    """
    docs: list[TopicDoc] = []
    errors: list[BankError] = []
    for file in sorted(Path(path).glob("*.yaml")):
        try:
            docs.append(load_bank_file(file))
        except BankValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise BankValidationError(errors)
    return docs


def load_valid_bank(path: str | Path) -> list[TopicDoc]:
    """:func:`load_bank_dir` then :func:`validate`; raises :class:`BankValidationError`."""
    docs = load_bank_dir(path)
    errors = validate(docs)
    if errors:
        raise BankValidationError(errors)
    return docs


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


# Fields that make a question complete for learners rather than well-formed. Files exported
# from Moodle often lack them; such questions may be stored as drafts (``complete=False``) and
# completed before they are published.
COMPLETENESS_FIELDS = frozenset({"explanation", "source", "feedback", "feedback_true", "feedback_false"})


class _Checker:
    """Collects errors for one document, turning paths into lines."""

    def __init__(self, file: str, lines: Mapping[Path_, int] | None, *, complete: bool = True) -> None:
        self.file = file
        self.lines = lines or {}
        self.complete = complete
        self.errors: list[BankError] = []

    def line(self, path: Path_) -> int | None:
        return _line_of(self.lines, path)

    def error(self, path: Path_, message: str) -> None:
        prefix = f"{_dotted(path)}: " if path else ""
        self.errors.append(BankError(self.file, self.line(path), prefix + message))

    # -- field helpers: each returns the value when it is of the right kind, else None -------

    def present(self, mapping: dict, key: str, path: Path_, required: bool = True) -> bool:
        """Whether ``key`` is there; a missing required key is an error at the mapping's line."""
        if key in mapping:
            return True
        if required:
            self.error(path, f"missing required field '{key}'")
        return False

    def text(self, mapping: dict, key: str, path: Path_, *, required: bool = True) -> str | None:
        may_be_empty = not self.complete and key in COMPLETENESS_FIELDS
        if not self.present(mapping, key, path, required and not may_be_empty):
            return None
        value = mapping[key]
        if may_be_empty and (value is None or value == ""):
            return None
        if not isinstance(value, str):
            hint = " (quote it: YAML read it as a non-string)" if value is not None else ""
            self.error((*path, key), f"'{key}' must be a string, got {_kind(value)}{hint}")
            return None
        if not value.strip():
            if not may_be_empty:
                self.error((*path, key), f"'{key}' must not be empty")
            return None
        self.latex(value, (*path, key))
        return value

    def control_chars(self, value: str, path: Path_) -> None:
        # In a double-quoted YAML string "\frac", "\theta" and "\beta" become a form feed, a
        # tab and a backspace: LaTeX belongs in single quotes or a block scalar.
        bad = _CONTROL.search(value)
        if bad:
            self.error(path, f"control character {bad.group()!r} (LaTeX in a double-quoted "
                             "YAML string? use single quotes or a block scalar)")

    def number(self, mapping: dict, key: str, path: Path_) -> float | None:
        if not self.present(mapping, key, path):
            return None
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = ""
            if isinstance(value, str) and _looks_numeric(value):
                hint = " (PyYAML reads '1e9' as a string; write 1.0e+9)"
            self.error((*path, key), f"'{key}' must be a number, got {_kind(value)}{hint}")
            return None
        if not math.isfinite(value):
            self.error((*path, key), f"'{key}' must be finite")
            return None
        return float(value)

    def seq(self, mapping: dict, key: str, path: Path_, *, required: bool = True,
            min_len: int = 0) -> list | None:
        if not self.present(mapping, key, path, required):
            return None
        value = mapping[key]
        if not isinstance(value, list):
            self.error((*path, key), f"'{key}' must be a list, got {_kind(value)}")
            return None
        if len(value) < min_len:
            self.error((*path, key), f"'{key}' needs at least {min_len} entries, has {len(value)}")
        return value

    def mapping(self, value: Any, path: Path_, what: str) -> dict | None:
        if not isinstance(value, dict):
            self.error(path, f"{what} must be a mapping, got {_kind(value)}")
            return None
        return value

    def keys(self, mapping: dict, allowed: Iterable[str], path: Path_) -> None:
        allowed = set(allowed)
        for key in mapping:
            if key not in allowed:
                self.error((*path, key), f"unknown field '{key}' (allowed: {', '.join(sorted(allowed))})")

    def latex(self, value: str, path: Path_) -> None:
        self.control_chars(value, path)
        # An odd number of unescaped '$' means an unclosed $...$ (a '$$' counts twice).
        if len(re.findall(r"(?<!\\)\$", value)) % 2:
            self.error(path, "unbalanced '$' (unclosed LaTeX math)")


def _dotted(path: Path_) -> str:
    """``("questions", 3, "choices")`` -> ``questions[3].choices``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_topic(c: _Checker, data: Any, file_stem: str | None) -> None:
    if "topic" not in data:
        c.error((), "missing required field 'topic'")
        return
    topic = c.mapping(data["topic"], ("topic",), "'topic'")
    if topic is None:
        return
    c.keys(topic, _TOPIC_FIELDS, ("topic",))
    slug = c.text(topic, "slug", ("topic",))
    if slug is not None and not SLUG_RE.match(slug):
        c.error(("topic", "slug"), f"topic slug '{slug}' must match [a-z0-9-]+")
    elif slug is not None and file_stem is not None and slug != file_stem:
        c.error(("topic", "slug"), f"topic slug '{slug}' must equal the file name '{file_stem}'")
    c.text(topic, "title", ("topic",))
    c.text(topic, "description", ("topic",))


def _entries(c: _Checker, items: list, path: Path_, what: str) -> Iterator[tuple[Path_, dict]]:
    """``(path, mapping)`` for each entry of a list field; a non-mapping entry is reported."""
    for i, raw in enumerate(items):
        entry_path = (*path, i)
        entry = c.mapping(raw, entry_path, what)
        if entry is not None:
            yield entry_path, entry


def _check_unique(c: _Checker, seen: set, value: Any, path: Path_, what: str) -> None:
    if value is None:
        return
    if value in seen:
        c.error(path, f"duplicate {what} {value!r}")
    seen.add(value)


def positive_weights_sum_to_100(weights: Iterable[float]) -> bool:
    """A multiple-response question's positive weights make 100 %, as Moodle rounds them
    (round(total / 100, 2) == 1, so 3 x 33.33333 passes): the bank, authoring and GIFT / Moodle
    XML import use this one rule."""
    return round(sum(w for w in weights if w > 0) / 100, 2) == 1


def full_credit_count(weights: Iterable[float]) -> int:
    """How many choices are worth 100 % (a single choice needs exactly one)."""
    return sum(1 for w in weights if w == 100)


def _check_choices(c: _Checker, q: dict, path: Path_, kind: str) -> None:
    choices = c.seq(q, "choices", path, min_len=2)
    if choices is None:
        return
    weights: list[float] = []
    texts: set[str] = set()
    for cpath, choice in _entries(c, choices, (*path, "choices"), "a choice"):
        c.keys(choice, ("text", "weight", "feedback"), cpath)
        _check_unique(c, texts, c.text(choice, "text", cpath), (*cpath, "text"), "choice text")
        weight = c.number(choice, "weight", cpath)
        if weight is None:
            continue
        weights.append(weight)
        if kind == "single_choice":
            if not 0 <= weight <= 100:
                c.error((*cpath, "weight"), "single_choice weights must lie in [0, 100]")
            wrong = weight < 100
        else:
            if not -100 <= weight <= 100:
                c.error((*cpath, "weight"), "weights must lie in [-100, 100]")
            # Wrong choices should be negative; 0 ("wrong, no penalty") is accepted because
            # Moodle files use it. The bank's own files are held to negatives by a test.
            wrong = weight <= 0
        if wrong:
            c.text(choice, "feedback", cpath)  # required: say why it is wrong
        elif "feedback" in choice:
            c.text(choice, "feedback", cpath)
    if len(weights) != len(choices):
        return
    if kind == "single_choice":
        full = full_credit_count(weights)
        if full != 1:
            c.error((*path, "choices"), f"single_choice needs exactly one choice with weight 100, has {full}")
    elif not positive_weights_sum_to_100(weights):
        positive = sum(w for w in weights if w > 0)
        c.error((*path, "choices"), f"positive weights must sum to 100, they sum to {positive:g}")


def _check_scored_answers(c: _Checker, q: dict, path: Path_, kind: str) -> None:
    answers = c.seq(q, "answers", path, min_len=1)
    if answers is None:
        return
    best = 0.0
    seen: set[Any] = set()
    for apath, answer in _entries(c, answers, (*path, "answers"), "an answer"):
        if kind == "numeric":
            c.keys(answer, ("value", "tolerance", "weight", "feedback", "engine"), apath)
            value = c.number(answer, "value", apath)
            tolerance = c.number(answer, "tolerance", apath)
            if tolerance is not None and tolerance < 0:
                c.error((*apath, "tolerance"), "tolerance must not be negative")
            if "engine" in answer:
                _check_engine(c, answer["engine"], (*apath, "engine"))
            key: Any = value
        else:
            c.keys(answer, ("text", "weight", "feedback"), apath)
            key = c.text(answer, "text", apath)
        _check_unique(c, seen, key, apath, "answer")
        weight = c.number(answer, "weight", apath)
        if weight is None:
            continue
        if not 0 <= weight <= 100:
            c.error((*apath, "weight"), "answer weights must lie in [0, 100]")
        best = max(best, weight)
        if weight < 100 or "feedback" in answer:
            c.text(answer, "feedback", apath)
    if answers and best != 100:
        c.error((*path, "answers"), "at least one answer needs weight 100")


def _check_engine(c: _Checker, raw: Any, path: Path_) -> None:
    engine = c.mapping(raw, path, "'engine'")
    if engine is None:
        return
    c.keys(engine, ("function", "args", "field"), path)
    function = c.text(engine, "function", path)
    if function is not None and not function.isidentifier():
        c.error((*path, "function"), f"'{function}' is not a function name")
    if "args" not in engine:
        c.error(path, "missing required field 'args'")
    else:
        args = c.mapping(engine["args"], (*path, "args"), "'args'")
        for name, value in (args or {}).items():
            if not isinstance(value, bool | int | float | str) and value is not None:
                c.error((*path, "args", name), f"argument '{name}' must be a scalar")
    if "field" in engine:
        name = c.text(engine, "field", path)
        if name is not None and name != "total" and not re.fullmatch(r"breakdown\.\w+", name):
            c.error((*path, "field"), "field must be 'total' or 'breakdown.<key>'")


def _check_type_fields(c: _Checker, q: dict, path: Path_, kind: str) -> None:
    if kind in ("single_choice", "multiple_response"):
        _check_choices(c, q, path, kind)
    elif kind == "true_false":
        if "answer" not in q:
            c.error(path, "missing required field 'answer'")
        elif not isinstance(q["answer"], bool):
            c.error((*path, "answer"), f"'answer' must be true or false, got {_kind(q['answer'])}")
        c.text(q, "feedback_true", path)
        c.text(q, "feedback_false", path)
    elif kind == "numeric":
        _check_scored_answers(c, q, path, kind)
        c.text(q, "unit", path, required=False)
        c.text(q, "other_feedback", path, required=False)
        if "engine" in q:
            _check_engine(c, q["engine"], (*path, "engine"))
    elif kind == "short_answer":
        _check_scored_answers(c, q, path, kind)
        if "case_sensitive" in q and not isinstance(q["case_sensitive"], bool):
            c.error((*path, "case_sensitive"), "'case_sensitive' must be true or false")
    elif kind == "matching":
        pairs = c.seq(q, "pairs", path, min_len=2) or []
        lefts: set[str] = set()
        rights: set[str] = set()
        for ppath, pair in _entries(c, pairs, (*path, "pairs"), "a pair"):
            c.keys(pair, ("left", "right"), ppath)
            _check_unique(c, lefts, c.text(pair, "left", ppath), (*ppath, "left"), "left item")
            right = c.text(pair, "right", ppath)
            if right is not None:
                rights.add(right)
        for i, distractor in enumerate(c.seq(q, "distractors", path, required=False) or []):
            dpath = (*path, "distractors", i)
            if not isinstance(distractor, str) or not distractor.strip():
                c.error(dpath, "a distractor must be a non-empty string")
            elif distractor in rights:
                c.error(dpath, f"distractor '{distractor}' is also a correct right-hand item")
    elif kind == "ordering":
        items = c.seq(q, "items", path, min_len=3) or []
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                c.error((*path, "items", i), "an item must be a non-empty string")
            elif item in seen:
                c.error((*path, "items", i), f"duplicate item '{item}'")
            else:
                c.latex(item, (*path, "items", i))
                seen.add(item)


def _check_question(c: _Checker, raw: Any, path: Path_) -> None:
    q = c.mapping(raw, path, "a question")
    if q is None:
        return
    kind = q.get("type")
    if "type" not in q:
        c.error(path, "missing required field 'type'")
    elif kind not in QUESTION_TYPES:
        c.error((*path, "type"), f"unknown type {kind!r} (one of {', '.join(QUESTION_TYPES)})")
        kind = None
    required, optional = _TYPE_FIELDS.get(kind, ((), ())) if kind else ((), ())
    if kind is not None:
        c.keys(q, (*_COMMON_REQUIRED, *_COMMON_OPTIONAL, *required, *optional), path)
    slug = c.text(q, "slug", path)
    if slug is not None and not SLUG_RE.match(slug):
        c.error((*path, "slug"), f"slug '{slug}' must match [a-z0-9-]+")
    if "difficulty" not in q:
        c.error(path, "missing required field 'difficulty'")
    elif q["difficulty"] not in DIFFICULTIES:
        c.error((*path, "difficulty"), f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {q['difficulty']!r}")
    for key in ("title", "prompt", "explanation", "source"):
        c.text(q, key, path)
    for key in ("tags", "hints"):
        for i, item in enumerate(c.seq(q, key, path, required=False) or []):
            if not isinstance(item, str) or not item.strip():
                c.error((*path, key, i), f"each of '{key}' must be a non-empty string")
            elif key == "tags" and not SLUG_RE.match(item):
                c.error((*path, key, i), f"tag '{item}' must match [a-z0-9-]+")
            elif key == "hints":
                c.latex(item, (*path, key, i))
    if kind is not None:
        _check_type_fields(c, q, path, kind)


def validate_question(question: Any, *, file: str = "<question>",
                      lines: Mapping[Path_, int] | None = None,
                      path: Path_ = (), complete: bool = True) -> list[BankError]:
    """Errors of one question dict (for the authoring form and importers; no cross-bank rules).

    ``complete=False`` checks structure only: explanations, sources and feedback
    (``COMPLETENESS_FIELDS``) may be missing or empty, as in drafts imported from Moodle.
    """
    c = _Checker(file, lines, complete=complete)
    _check_question(c, question, path)
    return c.errors


def validate(docs: TopicDoc | Iterable[TopicDoc]) -> list[BankError]:
    """Every FORMAT.md rule over the given files, including slugs unique across all of them."""
    if isinstance(docs, TopicDoc):
        docs = [docs]
    errors: list[BankError] = []
    # slug -> (file, line) of its first use; slugs are unique across the whole bank
    topic_slugs: dict[str, tuple[str, int | None]] = {}
    question_slugs: dict[str, tuple[str, int | None]] = {}
    for doc in docs:
        c = _Checker(doc.file, doc.lines)
        data = doc.data
        if not isinstance(data, dict):
            c.error((), f"the document must be a mapping with 'topic' and 'questions', got {_kind(data)}")
            errors.extend(c.errors)
            continue
        c.keys(data, ("topic", "questions"), ())
        stem = Path(doc.file).stem if doc.file.endswith(".yaml") else None
        _check_topic(c, data, stem)
        questions = c.seq(data, "questions", (), min_len=1) or []
        for i, question in enumerate(questions):
            _check_question(c, question, ("questions", i))
        errors.extend(c.errors)

        claims = [("topic", doc.topic.get("slug"), ("topic", "slug"))]
        claims += [("question", q.get("slug"), ("questions", i, "slug"))
                   for i, q in enumerate(questions) if isinstance(q, dict)]
        for what, slug, path in claims:
            seen = topic_slugs if what == "topic" else question_slugs
            if not isinstance(slug, str):
                continue
            if slug in seen:
                first_file, first_line = seen[slug]
                errors.append(BankError(doc.file, c.line(path),
                                        f"{what} slug '{slug}' already used at {first_file}:{first_line}"))
            else:
                seen[slug] = (doc.file, c.line(path))
    return errors
