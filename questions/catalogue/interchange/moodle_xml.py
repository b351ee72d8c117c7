"""Moodle XML import and export, following Moodle's ``question/format/xml/format.php``.

Import reads ``<quiz>`` the way Moodle's ``import_questions()`` does: ``<question
type="category">`` pseudo-questions set the category of the questions after them; every
``<text>`` is trimmed; a ``format`` attribute names the text format (``moodle_auto_format``,
``html`` (the default), ``plain_text``, ``markdown``; ``wiki_like`` is read as plain, as Moodle
renders it); ``fraction`` attributes are percentages and must be grades Moodle accepts (it
refuses 33 but takes 33.33333); ``<idnumber>`` gives the slug, ``<tags>`` the tags,
``<hint>`` the hints, ``<generalfeedback>`` the explanation. Types map as::

    multichoice <single>true</single>   -> single_choice      truefalse   -> true_false
    multichoice <single>false</single>  -> multiple_response  numerical   -> numeric
    shortanswer (<usecase> -> case_sensitive)                 matching    -> matching
    essay -> essay        ordering (qtype_ordering: answers in their correct order) -> ordering

Moodle types without a FORMAT.md type (description, cloze, calculated, drag-and-drop...) are
refused with an :class:`ImportFormatError` naming the ``<question>`` line, or skipped and
reported with ``skip_unsupported=True``. A malformed file is an error naming the parser's line;
so is a ``<!DOCTYPE>`` (Moodle never writes one, and refusing it shuts out entity tricks).
Numerical ``*`` answers (feedback for any other response) become ``other_feedback``; of a
numerical question's units only the one with multiplier 1 is kept, as ``unit``.

Export writes the elements Moodle's ``writequestion()`` writes, text in CDATA when it contains
markup characters, so Moodle imports the file. XML carries everything GIFT does plus hints,
units and ``case_sensitive``; ``source``, ``difficulty`` and a numeric ``engine`` stay behind.
"""

from __future__ import annotations

import html
import re
import xml.parsers.expat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .common import (
    check_choices,
    check_import_weight,
    check_scored_answers,
    export_answers,
    export_choices,
    export_tags,
    export_view,
    finish_import,
    format_number,
    parse_number,
)
from .errors import ExportFormatError, ImportFormatError, SkippedQuestion

__all__ = ["dump", "parse"]

_FORMAT_FROM_XML = {"moodle_auto_format": "moodle", "html": "html", "plain_text": "plain",
                    "wiki_like": "plain", "markdown": "markdown"}
_FORMAT_TO_XML = {"moodle": "moodle_auto_format", "html": "html", "plain": "plain_text",
                  "markdown": "markdown"}
_QTYPE_TO_XML = {"single_choice": "multichoice", "multiple_response": "multichoice",
                 "true_false": "truefalse", "numeric": "numerical", "short_answer": "shortanswer",
                 "matching": "matching", "ordering": "ordering", "essay": "essay"}

# Characters XML 1.0 cannot hold, not even in CDATA.
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


@dataclass
class _Node:
    """An element with the line it starts on (ElementTree keeps no line numbers)."""

    tag: str
    attrs: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def first(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def all(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]


def _tree(data: str | bytes) -> _Node:
    """Parse with expat, keeping each element's line; errors name the parser's line."""
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    roots: list[_Node] = []
    stack: list[_Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = _Node(tag, attrs, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].chunks.append(text)

    def doctype(*_args: object) -> None:
        raise ImportFormatError("<!DOCTYPE> is not allowed in a Moodle XML file",
                                parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    if isinstance(data, str):
        data = data.lstrip("\ufeff")
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        message = xml.parsers.expat.errors.messages[exc.code]
        raise ImportFormatError(f"malformed XML: {message} (column {exc.offset + 1})",
                                exc.lineno) from exc
    if not roots:
        raise ImportFormatError("the file has no XML element", 1)
    return roots[0]


def _text(node: _Node | None) -> str:
    """The trimmed content of ``node``'s ``<text>`` child ('' if there is none)."""
    if node is None:
        return ""
    child = node.first("text")
    if child is None:
        return ""
    if child.children:
        raise ImportFormatError(
            f"<text> contains a <{child.children[0].tag}> element: wrap HTML in CDATA "
            "or escape it", child.children[0].line)
    return child.text.strip()


def _format(node: _Node | None, default: str) -> str:
    """Our name for a ``format`` attribute (Moodle's trans_format())."""
    if node is None or "format" not in node.attrs:
        return default
    # Moodle's trans_format() reads an unknown name as html.
    return _FORMAT_FROM_XML.get(node.attrs["format"].strip(), "html")


def _value(node: _Node, tag: str, default: str) -> str:
    """The trimmed text of a child element, or ``default``."""
    child = node.first(tag)
    return child.text.strip() if child is not None else default


def _weight(answer: _Node) -> int | float:
    """An answer's ``fraction`` attribute, checked against Moodle's grades."""
    raw = answer.attrs.get("fraction", "0")
    weight = parse_number(raw)
    if weight is None:
        raise ImportFormatError(f"answer fraction {raw!r} is not a number", answer.line)
    return check_import_weight(weight, answer.line)


def _read_multichoice(q: _Node, fmt: str) -> dict[str, Any]:
    """Moodle's import_multichoice()."""
    single = _value(q, "single", "true") not in ("false", "", "0")  # Moodle's trans_single()
    choices = []
    for answer in q.all("answer"):
        weight = _weight(answer)
        text = _text(answer)
        if not text:
            continue  # Moodle drops blank choices when it saves the question
        choices.append({"text": text, "weight": weight,
                        "feedback": _text(answer.first("feedback"))})
    kind = "single_choice" if single else "multiple_response"
    check_choices(kind, choices, q.line)
    return {"type": kind, "choices": choices}


def _read_truefalse(q: _Node) -> dict[str, Any]:
    """Moodle's import_truefalse(), including its fallback for old files."""
    answers = q.all("answer")
    if not answers:
        raise ImportFormatError("a true/false question has no <answer>", q.line)
    correct = True
    feedback = {"true": "", "false": ""}
    for position, answer in enumerate(answers):
        text = _text(answer)
        if text not in ("true", "false"):
            text = "true" if position == 0 else "false"  # old files: true first, then false
        right = (parse_number(answer.attrs.get("fraction", "0")) or 0) == 100
        correct = right if text == "true" else not right
        feedback[text] = _text(answer.first("feedback"))
    return {"type": "true_false", "answer": correct, "feedback_true": feedback["true"],
            "feedback_false": feedback["false"]}


def _read_shortanswer(q: _Node) -> dict[str, Any]:
    """Moodle's import_shortanswer()."""
    answers = []
    for answer in q.all("answer"):
        weight = _weight(answer)
        if weight < 0:
            raise ImportFormatError("short-answer weights cannot be negative", answer.line)
        text = _text(answer)
        if text:
            answers.append({"text": text, "weight": weight,
                            "feedback": _text(answer.first("feedback"))})
    check_scored_answers(answers, "short-answer", q.line)
    usecase = parse_number(_value(q, "usecase", "0")) or 0
    return {"type": "short_answer", "answers": answers, "case_sensitive": bool(usecase)}


def _read_numerical(q: _Node) -> dict[str, Any]:
    """Moodle's import_numerical(); ``*`` becomes ``other_feedback``."""
    answers = []
    other: str | None = None
    for answer in q.all("answer"):
        weight = _weight(answer)
        # Very old files put the number straight into <answer>.
        text = _text(answer) if answer.first("text") is not None else answer.text.strip()
        feedback = _text(answer.first("feedback"))
        if text in ("*", ""):
            if weight != 0 or other is not None:
                raise ImportFormatError("a numerical '*' answer must be worth 0% and come once",
                                        answer.line)
            other = feedback
            continue
        if weight < 0:
            raise ImportFormatError("numerical weights cannot be negative", answer.line)
        value = parse_number(text)
        tolerance_text = _value(answer, "tolerance", "0") or "0"
        tolerance = parse_number(tolerance_text)
        if value is None:
            raise ImportFormatError(f"numerical answer {text!r} is not a number", answer.line)
        if tolerance is None or tolerance < 0:
            raise ImportFormatError(f"numerical tolerance {tolerance_text!r} is not a number "
                                    "of at least 0", answer.line)
        answers.append({"value": value, "tolerance": tolerance, "weight": weight,
                        "feedback": feedback})
    check_scored_answers(answers, "numerical", q.line)
    result: dict[str, Any] = {"type": "numeric", "answers": answers}
    units = q.first("units")
    for unit in units.all("unit") if units is not None else []:
        if parse_number(_value(unit, "multiplier", "1")) == 1 and _value(unit, "unit_name", ""):
            result["unit"] = _value(unit, "unit_name", "")
            break
    if other:
        result["other_feedback"] = other
    return result


def _read_matching(q: _Node) -> dict[str, Any]:
    """Moodle's import_match()."""
    pairs, distractors = [], []
    for sub in q.all("subquestion"):
        left, right = _text(sub), _text(sub.first("answer"))
        if left and not right:
            raise ImportFormatError("a <subquestion> has no answer", sub.line)
        if left:
            pairs.append({"left": left, "right": right})
        elif right:
            distractors.append(right)  # an answer that matches no subquestion
    if len(pairs) < 2:
        raise ImportFormatError(f"a matching question needs at least 2 pairs, has {len(pairs)}",
                                q.line)
    return {"type": "matching", "pairs": pairs, "distractors": distractors}


def _read_ordering(q: _Node) -> dict[str, Any]:
    """qtype_ordering's import_from_xml()."""
    # qtype_ordering's import_from_xml() takes the answers in file order as the right order.
    items = [text for text in (_text(a) for a in q.all("answer")) if text]
    if len(items) < 2:
        raise ImportFormatError(f"an ordering question needs at least 2 items, has {len(items)}",
                                q.line)
    return {"type": "ordering", "items": items}


def _category(q: _Node) -> str:
    """The path of a category pseudo-question."""
    node = q.first("category")
    if node is None:
        raise ImportFormatError("a category pseudo-question has no <category>", q.line)
    # Moodle 1.x files wrote the path straight into <category>.
    return _text(node) if node.first("text") is not None else node.text.strip()


def _read_question(q: _Node, category: str | None) -> dict[str, Any] | SkippedQuestion:
    """A draft question, or a :class:`SkippedQuestion` for a type FORMAT.md lacks."""
    qtype = q.attrs.get("type", "").strip()
    title = _text(q.first("name"))
    text_node = q.first("questiontext")
    fmt = _format(text_node, "html")
    if qtype == "multichoice":
        draft = _read_multichoice(q, fmt)
    elif qtype == "truefalse":
        draft = _read_truefalse(q)
    elif qtype == "shortanswer":
        draft = _read_shortanswer(q)
    elif qtype == "numerical":
        draft = _read_numerical(q)
    elif qtype in ("matching", "match"):
        draft = _read_matching(q)
    elif qtype == "essay":
        draft = {"type": "essay"}
    elif qtype == "ordering":
        draft = _read_ordering(q)
    else:
        what = "cloze (embedded answers)" if qtype in ("cloze", "multianswer") else qtype
        return SkippedQuestion(q.line, qtype or "untyped", title,
                               f"Moodle question type {what or '(none)'!r} has no FORMAT.md type")
    idnumber = q.first("idnumber")
    tags = q.first("tags")
    draft.update({
        "title": title,
        "prompt": _text(text_node),
        "explanation": _text(q.first("generalfeedback")),
        "format": fmt,
        "category": category,
        "moodle_tags": [_text(t) for t in tags.all("tag")] if tags is not None else [],
        "idnumber": idnumber.text.strip() if idnumber is not None else "",
        "hints": [h for h in (_text(n) for n in q.all("hint")) if h],
    })
    return draft


def parse(text_or_bytes: str | bytes, *, filename: str | None = None,
          skip_unsupported: bool = False,
          skipped: list[SkippedQuestion] | None = None) -> list[dict[str, Any]]:
    """Read a Moodle XML file into neutral question dicts (FORMAT.md shape plus
    ``format``/``category``; see the module docstring for the mapping).

    Bytes are decoded as the XML declaration says (UTF-8 by default). Raises
    :class:`ImportFormatError` naming the line for a broken file; nothing is returned then.
    Unsupported question types raise too, unless ``skip_unsupported`` is true: then they are
    left out and, if ``skipped`` is a list, reported in it.
    """
    root = _tree(text_or_bytes)
    if root.tag != "quiz":
        raise ImportFormatError(f"the root element is <{root.tag}>, not <quiz>", root.line)
    results: list[dict[str, Any] | SkippedQuestion] = []
    category: str | None = None
    for q in root.all("question"):
        if q.attrs.get("type", "").strip() == "category":
            category = _category(q) or None
        else:
            results.append(_read_question(q, category))
    return finish_import(results, "Moodle XML file", filename,
                         skip_unsupported=skip_unsupported, skipped=skipped)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def _check_chars(text: str, slug: str) -> str:
    """Refuse characters no XML file can hold."""
    bad = _XML_INVALID_RE.search(text)
    if bad:
        raise ExportFormatError(f"XML cannot hold the character U+{ord(bad.group()):04X}", slug)
    return text


def _cdata(text: str, slug: str) -> str:
    """Moodle's xml_escape(): CDATA when the text has markup characters, else as it is."""
    _check_chars(text, slug)
    if text and html.escape(text) != text:
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return text


def _plain(text: str, slug: str) -> str:
    """Escaped element content (idnumber, unit names)."""
    return html.escape(_check_chars(text, slug), quote=False)


def _textblock(tag: str, text: str, fmt: str | None, slug: str, indent: str = "    ") -> str:
    """``<tag format=...><text>...</text></tag>``, indented as Moodle writes it."""
    attr = f' format="{_FORMAT_TO_XML[fmt]}"' if fmt else ""
    return (f"{indent}<{tag}{attr}>\n{indent}  <text>{_cdata(text, slug)}</text>\n"
            f"{indent}</{tag}>\n")


def _combined_feedback(fmt: str, slug: str) -> str:
    """Moodle's (empty) combined feedback elements."""
    return "".join(_textblock(tag, "", fmt, slug) for tag in
                   ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"))


def _answer(weight: float, text: str, text_fmt: str, feedback: str | None, fmt: str, slug: str,
            extra: str = "") -> str:
    """An ``<answer>`` element as Moodle's write_answer() writes it."""
    out = (f'    <answer fraction="{format_number(weight)}" format="{_FORMAT_TO_XML[text_fmt]}">\n'
           f"      <text>{_cdata(text, slug)}</text>\n")
    if feedback is not None:
        out += _textblock("feedback", feedback, fmt, slug, indent="      ")
    return out + extra + "    </answer>\n"


def _multichoice(q: Mapping[str, Any]) -> str:
    """The multichoice elements and answers."""
    fmt, slug = q["format"], q["slug"]
    single = "true" if q["type"] == "single_choice" else "false"
    out = (f"    <single>{single}</single>\n    <shuffleanswers>true</shuffleanswers>\n"
           "    <answernumbering>abc</answernumbering>\n"
           "    <showstandardinstruction>0</showstandardinstruction>\n")
    out += _combined_feedback(fmt, slug)
    for c in export_choices(q):
        out += _answer(c["weight"], c["text"], fmt, c.get("feedback") or "", fmt, slug)
    return out


def _truefalse(q: Mapping[str, Any]) -> str:
    """The two truefalse answers, ``true`` then ``false``."""
    fmt, slug = q["format"], q["slug"]
    correct = bool(q["answer"])
    return (_answer(100 if correct else 0, "true", "moodle", q.get("feedback_true") or "", fmt,
                    slug)
            + _answer(0 if correct else 100, "false", "moodle", q.get("feedback_false") or "",
                      fmt, slug))


def _shortanswer(q: Mapping[str, Any]) -> str:
    """``<usecase>`` and the answers (plain text, as Moodle writes them)."""
    fmt, slug = q["format"], q["slug"]
    out = f"    <usecase>{1 if q.get('case_sensitive') else 0}</usecase>\n"
    for a in export_answers(q):
        out += _answer(a["weight"], a["text"], "plain", a.get("feedback") or "", fmt, slug)
    return out


def _numerical(q: Mapping[str, Any]) -> str:
    """Answers with tolerances, the ``*`` answer and the unit."""
    fmt, slug = q["format"], q["slug"]
    out = ""
    for a in export_answers(q):
        out += _answer(a["weight"], format_number(a["value"]), "plain", a.get("feedback") or "",
                       fmt, slug,
                       extra=f"      <tolerance>{format_number(a['tolerance'])}</tolerance>\n")
    if q.get("other_feedback"):
        out += _answer(0, "*", "plain", q["other_feedback"], fmt, slug,
                       extra="      <tolerance>0</tolerance>\n")
    if q.get("unit"):
        out += ("    <units>\n      <unit>\n        <multiplier>1</multiplier>\n"
                f"        <unit_name>{_plain(q['unit'], slug)}</unit_name>\n"
                "      </unit>\n    </units>\n")
    return out


def _matching(q: Mapping[str, Any]) -> str:
    """Subquestions; distractors are subquestions with empty text."""
    fmt, slug = q["format"], q["slug"]
    if len(q["pairs"]) < 2:
        raise ExportFormatError("a matching question needs at least 2 pairs", slug)
    out = "    <shuffleanswers>true</shuffleanswers>\n" + _combined_feedback(fmt, slug)
    rows = [(p["left"], p["right"]) for p in q["pairs"]]
    rows += [("", d) for d in q.get("distractors") or []]
    for left, right in rows:
        if not right.strip() or (left == "" and right == ""):
            raise ExportFormatError("a matching pair has an empty side", slug)
        out += (f'    <subquestion format="{_FORMAT_TO_XML[fmt]}">\n'
                f"      <text>{_cdata(left, slug)}</text>\n"
                f"      <answer>\n        <text>{_cdata(right, slug)}</text>\n      </answer>\n"
                "    </subquestion>\n")
    return out


def _ordering(q: Mapping[str, Any]) -> str:
    """qtype_ordering's elements; answers in their correct order."""
    fmt, slug = q["format"], q["slug"]
    items = q["items"]
    if len(items) < 2 or not all(isinstance(i, str) and i.strip() for i in items):
        raise ExportFormatError("an ordering question needs at least 2 non-empty items", slug)
    out = ("    <layouttype>VERTICAL</layouttype>\n    <selecttype>ALL</selecttype>\n"
           f"    <selectcount>{len(items)}</selectcount>\n"
           "    <gradingtype>ABSOLUTE_POSITION</gradingtype>\n    <showgrading>SHOW</showgrading>\n"
           "    <numberingstyle>none</numberingstyle>\n")
    out += _combined_feedback(fmt, slug) + "    <shownumcorrect>1</shownumcorrect>\n"
    for position, item in enumerate(items, start=1):
        out += _answer(position, item, fmt, None, fmt, slug)
    return out


def _essay(q: Mapping[str, Any]) -> str:
    """Moodle's default essay settings: an editor, no attachments."""
    slug = q["slug"]
    return ("    <responseformat>editor</responseformat>\n"
            "    <responserequired>1</responserequired>\n"
            "    <responsefieldlines>15</responsefieldlines>\n"
            "    <attachments>0</attachments>\n    <attachmentsrequired>0</attachmentsrequired>\n"
            + _textblock("graderinfo", "", "html", slug)
            + _textblock("responsetemplate", "", "html", slug))


_WRITERS = {"single_choice": _multichoice, "multiple_response": _multichoice,
            "true_false": _truefalse, "numeric": _numerical, "short_answer": _shortanswer,
            "matching": _matching, "ordering": _ordering, "essay": _essay}


def _question(q: Mapping[str, Any], number: int) -> str:
    """One ``<question>`` element."""
    fmt, slug = q["format"], q["slug"]
    penalty = {"true_false": "1", "essay": "0"}.get(q["type"], "0.3333333")  # Moodle's defaults
    out = (f"<!-- question: {number}  -->\n"
           f'  <question type="{_QTYPE_TO_XML[q["type"]]}">\n'
           + _textblock("name", q["title"], None, slug)
           + _textblock("questiontext", q["prompt"], fmt, slug)
           + _textblock("generalfeedback", q["explanation"], fmt, slug)
           + f"    <defaultgrade>1</defaultgrade>\n    <penalty>{penalty}</penalty>\n"
           f"    <hidden>0</hidden>\n    <idnumber>{_plain(slug, slug)}</idnumber>\n")
    out += _WRITERS[q["type"]](q)
    for hint in q["hints"]:
        out += _textblock("hint", hint, fmt, slug)
    tags = export_tags(q)
    if tags:
        out += "    <tags>\n" + "".join(
            f"      <tag><text>{_cdata(t, slug)}</text></tag>\n" for t in tags) + "    </tags>\n"
    return out + "  </question>\n\n"


def _category_xml(category: str, slug: str) -> str:
    """A category pseudo-question."""
    return ("<!-- question: 0  -->\n"
            '  <question type="category">\n'
            f"    <category>\n      <text>{_cdata(category, slug)}</text>\n    </category>\n"
            '    <info format="moodle_auto_format">\n      <text></text>\n    </info>\n'
            "    <idnumber></idnumber>\n"
            "  </question>\n\n")


def dump(questions: Iterable[Mapping[str, Any]]) -> str:
    """Write neutral question dicts as a Moodle XML ``<quiz>`` that Moodle imports.

    A ``category`` becomes a category pseudo-question whenever it changes. Raises
    :class:`ExportFormatError` for a question Moodle would refuse or misread.
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    current: str | None = None
    for number, raw in enumerate(questions, start=1):
        q = export_view(raw)
        if q["category"] and q["category"] != current:
            out.append(_category_xml(q["category"], q["slug"]))
            current = q["category"]
        out.append(_question(q, number))
    out.append("</quiz>\n")
    return "".join(out)
