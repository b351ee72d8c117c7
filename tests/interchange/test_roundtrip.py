"""dict -> GIFT -> dict and dict -> Moodle XML -> dict give back the same question.

"The same" is :func:`samples.carried`: the fields the format can carry. Hand-picked samples
cover every type; hypothesis then throws texts full of GIFT's special characters (``~ = # { }
:``, backslashes, ``[format]``-like brackets, ``%``, ``->``, blanks) and non-ASCII text at both
formats.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questions.catalogue import interchange
from questions.catalogue.interchange.common import MOODLE_GRADES, category_tag

from .samples import SAMPLES, carried, sample

FORMATS = ("gift", "moodle_xml")


def round_trip(questions: list[dict[str, Any]], fmt: str) -> tuple[list[dict[str, Any]], str]:
    text = interchange.dump(questions, fmt)
    back = interchange.parse(text, fmt)
    # A second trip writes the very same file: nothing drifts.
    assert interchange.dump(back, fmt) == text
    return back, text


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_type_round_trips(kind: str, fmt: str) -> None:
    question = sample(kind)
    (back,), _ = round_trip([question], fmt)
    assert carried(back, fmt) == carried(question, fmt)
    assert back["type"] == kind


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_whole_file_with_categories_round_trips(fmt: str) -> None:
    questions = []
    for i, kind in enumerate(sorted(SAMPLES)):
        category = "$course$/top/Attention/" + ("Theory" if i % 2 else "Arithmetic")
        q = sample(kind, category=category, format=["html", "markdown", "plain", "moodle"][i % 4])
        q["tags"] = [*q["tags"], category_tag(category)]
        questions.append(q)
    back, text = round_trip(questions, fmt)
    assert [carried(q, fmt) for q in back] == [carried(q, fmt) for q in questions]
    switches = text.count("$CATEGORY:") if fmt == "gift" else text.count('type="category"')
    assert switches == len(questions)  # the category alternates, so every question switches


def test_xml_carries_what_gift_cannot() -> None:
    numeric = sample("numeric")
    short = sample("short_answer")
    (n_xml, s_xml), _ = round_trip([numeric, short], "moodle_xml")
    assert n_xml["unit"] == "KiB" and s_xml["case_sensitive"] is True
    assert n_xml["hints"] == numeric["hints"]
    (n_gift, s_gift), _ = round_trip([numeric, short], "gift")
    assert "unit" not in n_gift and s_gift["case_sensitive"] is False and n_gift["hints"] == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_word_prompt_round_trips(fmt: str) -> None:
    q = sample("short_answer", prompt="$QK^T$ holds the attention _____ of every pair.",
               case_sensitive=False)
    (back,), text = round_trip([q], fmt)
    assert back["prompt"] == q["prompt"]
    if fmt == "gift":  # written as Moodle's missing-word form: answers where the blank was
        assert "holds the attention {\n" in text and "} of every pair." in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_numeric_catch_all_feedback_round_trips(fmt: str) -> None:
    q = sample("numeric", other_feedback="Recount: K and V, every layer, 2 bytes each.")
    (back,), _ = round_trip([q], fmt)
    assert back["other_feedback"] == q["other_feedback"]


def test_gift_ordering_falls_back_to_matching_positions_when_items_need_braces() -> None:
    q = sample("ordering", items=["Scores $QK^T$", "Scale by $1/\\sqrt{d_k}$", "Softmax"])
    (back,), text = round_trip([q], "gift")
    assert ">3 ALL" not in text
    assert back["type"] == "matching"
    assert back["pairs"] == [{"left": "Scores $QK^T$", "right": "1"},
                             {"left": "Scale by $1/\\sqrt{d_k}$", "right": "2"},
                             {"left": "Softmax", "right": "3"}]
    (xml_back,), _ = round_trip([q], "moodle_xml")  # XML's ordering type carries it as it is
    assert xml_back["items"] == q["items"]


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------

_CHARS = list("~=#{}:\\[]%->_/$*!'\"&<>; abcXYZ019\n") + ["é", "λ", "中", "😀", "√", "—", "’",
                                                         "\u00a0"]
# Whole tokens too, so that the tricky sequences actually turn up: a missing-word blank, a
# format tag or weight at the start of a text, GIFT's general-feedback marker, "\\n" typed
# as two characters, a title separator, a CDATA end.
_TOKENS = ["_____", "[html]", "[moodle]", "%50%", "%-100%", "####", "\\n", "::", "->", "]]>",
           "$CATEGORY:", "//", "{#1:2}"]
texts = st.lists(st.sampled_from(_CHARS + _TOKENS), min_size=1, max_size=16).map(
    lambda parts: "".join(parts).strip()).filter(bool)
maybe_texts = st.one_of(st.just(""), texts)
no_arrow = texts.filter(lambda t: "->" not in t)  # GIFT has no escape for "->"
maybe_no_arrow = st.one_of(st.just(""), no_arrow)
# core qtype_ordering reads its GIFT items raw, one per line: no braces, escapes or newlines.
ordering_items = st.text(alphabet=st.sampled_from([c for c in _CHARS if c not in "{}\\\n"]),
                         min_size=1, max_size=16).map(str.strip).filter(
    lambda t: bool(t) and "####" not in t and not t.startswith("//"))
slugs = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)
numbers = st.one_of(st.integers(-10**9, 10**9),
                    st.floats(allow_nan=False, allow_infinity=False, width=64))
tolerances = st.one_of(st.integers(0, 1000), st.floats(min_value=0, max_value=1e12))
partial = st.sampled_from([g for g in MOODLE_GRADES if 0 <= g < 100])
positive_sets = st.sampled_from([[100], [50, 50], [33.33333] * 3, [25] * 4, [75, 25], [20] * 5,
                                 [66.66667, 33.33333], [40, 30, 30], [90, 10]])
penalties = st.lists(st.sampled_from([0, -5, -33.33333, -50, -100]), max_size=3)


@st.composite
def choices(draw: st.DrawFn, kind: str) -> list[dict[str, Any]]:
    if kind == "single_choice":
        weights = [100, *draw(st.lists(partial, min_size=1, max_size=4))]
    else:
        weights = draw(positive_sets) + draw(penalties)
        if len(weights) < 2:
            weights.append(0)
    weights = draw(st.permutations(weights))
    return [{"text": draw(texts), "weight": w, "feedback": draw(maybe_texts)} for w in weights]


@st.composite
def scored(draw: st.DrawFn, value: st.SearchStrategy[dict[str, Any]]) -> list[dict[str, Any]]:
    weights = draw(st.permutations([100, *draw(st.lists(partial, max_size=3))]))
    return [{**draw(value), "weight": w} for w in weights]


@st.composite
def questions(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(SAMPLES)))
    q: dict[str, Any] = {"slug": draw(slugs), "type": kind, "title": draw(texts),
                         "prompt": draw(texts), "explanation": draw(maybe_texts),
                         "difficulty": "hard", "source": "generated", "tags": [],
                         "hints": draw(st.lists(texts, max_size=2))}
    fmt = draw(st.sampled_from([None, "moodle", "html", "plain", "markdown"]))
    if fmt:
        q["format"] = fmt
    if draw(st.booleans()):
        category = "$course$/top/" + draw(texts.filter(lambda t: "\\" not in t and "\n" not in t))
        q["category"] = category
    tags = draw(st.lists(slugs, max_size=3, unique=True))
    derived = category_tag(q.get("category"))
    q["tags"] = [t for t in tags if t != derived] + ([derived] if derived else [])
    if kind in ("single_choice", "multiple_response"):
        q["choices"] = draw(choices(kind))
    elif kind == "true_false":
        q.update(answer=draw(st.booleans()), feedback_true=draw(maybe_texts),
                 feedback_false=draw(maybe_texts))
    elif kind == "numeric":
        q["answers"] = draw(scored(st.fixed_dictionaries(
            {"value": numbers, "tolerance": tolerances, "feedback": maybe_texts})))
        if draw(st.booleans()):
            q["unit"] = draw(texts.filter(lambda t: "\n" not in t))
        if draw(st.booleans()):
            q["other_feedback"] = draw(texts)
    elif kind == "short_answer":
        q["answers"] = draw(scored(st.fixed_dictionaries(
            {"text": no_arrow, "feedback": maybe_no_arrow})))
        q["case_sensitive"] = draw(st.booleans())
    elif kind == "matching":
        q["pairs"] = draw(st.lists(st.fixed_dictionaries({"left": no_arrow, "right": texts}),
                                   min_size=2, max_size=4))
        q["distractors"] = draw(st.lists(texts, max_size=2))
    elif kind == "ordering":
        q["items"] = draw(st.lists(ordering_items, min_size=2, max_size=5))
    return q


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=questions())
def test_generated_questions_round_trip(fmt: str, question: dict[str, Any]) -> None:
    original = copy.deepcopy(question)
    (back,), _ = round_trip([question], fmt)
    assert question == original  # dump does not touch its input
    assert carried(back, fmt) == carried(question, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(questions(), min_size=2, max_size=5, unique_by=lambda q: q["slug"]))
def test_generated_files_round_trip(fmt: str, batch: list[dict[str, Any]]) -> None:
    # A question without category after one with a category lands in that category (neither
    # format can switch back to "none"), so give every question one when any has one.
    if any("category" in q for q in batch):
        for q in batch:
            if "category" not in q:
                q["category"] = "$course$/top/Default"
                q["tags"] = [*q["tags"], "default"]
    back, _ = round_trip(batch, fmt)
    assert [carried(q, fmt) for q in back] == [carried(q, fmt) for q in batch]


@settings(max_examples=300, deadline=None)
@given(text=texts, title=texts)
def test_any_text_survives_gift_escaping(text: str, title: str) -> None:
    q = {"slug": "t", "type": "essay", "title": title, "prompt": text, "explanation": text,
         "format": "moodle"}
    (back,), _ = round_trip([q], "gift")
    assert (back["title"], back["prompt"], back["explanation"]) == (title, text, text)
