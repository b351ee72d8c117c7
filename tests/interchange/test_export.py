"""Export writes what Moodle's own exporters write, and refuses what Moodle would misread."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from questions.catalogue.interchange import ExportFormatError, gift, moodle_xml

from .samples import sample


def q(kind: str, **fields: object) -> dict:
    return {"slug": "x", "type": kind, "title": "T", "prompt": "P", "format": "moodle", **fields}


# ---------------------------------------------------------------------------------------------
# GIFT: the lines Moodle's giftformat_test.php expects from its exporter
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (q("essay", slug="q8", title="Q8", prompt="How are you?"), "::Q8::How are you?{}\n"),
        (q("multiple_response", title="Q8",
           prompt="What's between orange and green in the spectrum?",
           choices=[{"text": "yellow", "weight": 100, "feedback": "right; good!"},
                    {"text": "red", "weight": -50, "feedback": "wrong, it's yellow"},
                    {"text": "blue", "weight": -50, "feedback": "wrong, it's yellow"}]),
         "::Q8::What's between orange and green in the spectrum?{\n"
         "\t~%100%yellow#right; good!\n\t~%-50%red#wrong, it's yellow\n"
         "\t~%-50%blue#wrong, it's yellow\n}\n"),
        (q("numeric", title="Q5", prompt="What is a number from 1 to 5?",
           answers=[{"value": 3, "tolerance": 2, "weight": 100, "feedback": ""}],
           other_feedback="Completely wrong"),
         "::Q5::What is a number from 1 to 5?{#\n\t=%100%3:2#\n\t~#Completely wrong\n}\n"),
        (q("short_answer", title="Shortanswer", prompt="Which is the best animal?",
           answers=[{"text": "Frog", "weight": 100, "feedback": "Good!"},
                    {"text": "Cat", "weight": 50,
                     "feedback": "What is it with Moodlers and cats?"},
                    {"text": "*", "weight": 0, "feedback": "Completely wrong"}]),
         "::Shortanswer::Which is the best animal?{\n\t=%100%Frog#Good!\n"
         "\t=%50%Cat#What is it with Moodlers and cats?\n\t=%0%*#Completely wrong\n}\n"),
        (q("true_false", slug="myid", title="True/false question", format="html",
           prompt="The answer is true.", answer=True,
           feedback_true="This is the right answer.", feedback_false="This is the wrong answer.",
           explanation="You should have selected true.", tags=["tag1", "tag2"]),
         "// [id:myid] [tag:tag1] [tag:tag2]\n::True/false question::[html]The answer is true."
         "{TRUE#This is the wrong answer.#This is the right answer.####You should have selected"
         " true.}\n"),
        (q("matching", title="Moodle activities", format="html",
           prompt="Match the <b>activity</b> to the description.",
           pairs=[{"left": '<div class="frog">An activity supporting asynchronous discussions.'
                           "</div>", "right": "Forum"},
                  {"left": "A bank of record entries which participants can add to.",
                   "right": "Database"}],
           distractors=["Chat"]),
         "::Moodle activities::[html]Match the <b>activity</b> to the description.{\n"
         '\t=<div class\\="frog">An activity supporting asynchronous discussions.</div> -> Forum\n'
         "\t=A bank of record entries which participants can add to. -> Database\n"
         "\t= -> Chat\n}\n"),
        (q("essay", title="backslash", prompt="A \\ B \\\\ C"),
         "::backslash::A \\\\ B \\\\\\\\ C{}\n"),
    ],
)
def test_gift_export_matches_moodles_expectations(question: dict, expected: str) -> None:
    assert expected in gift.dump([question])


def test_gift_export_starts_each_question_with_moodles_comment() -> None:
    text = gift.dump([q("essay", title="A"), q("essay", slug="y", title="B")])
    assert text == ("// question: 1  name: A\n// [id:x]\n::A::P{}\n\n"
                    "// question: 2  name: B\n// [id:y]\n::B::P{}\n")


def test_gift_escapes_every_control_character() -> None:
    text = gift.dump([q("essay", prompt="a=b{c}~d#e:f\\g\nh")])
    assert "::T::a\\=b\\{c\\}\\~d\\#e\\:f\\\\g\\nh{}" in text


def test_gift_writes_a_format_tag_only_when_needed() -> None:
    assert "::T::P{}" in gift.dump([q("essay")])
    assert "::T::[markdown]P{}" in gift.dump([{**q("essay"), "format": None}])  # bank default
    # A text that itself starts with "[" gets its format spelled out, even the default one.
    assert "::T::[moodle][html] is not a tag{}" in gift.dump([q("essay",
                                                              prompt="[html] is not a tag")])
    choice = gift.dump([q("single_choice", choices=[
        {"text": "[b]", "weight": 100, "feedback": "[plain] too"},
        {"text": "%50% is text", "weight": 0, "feedback": ""}])])
    assert "\t=[moodle][b]#[moodle][plain] too\n" in choice
    assert "\t~%0%%50% is text\n" in choice  # an explicit weight keeps "%50%" text


def test_gift_category_switch_lines() -> None:
    text = gift.dump([q("essay", category="$course$/top/A"), q("essay", category="$course$/top/A"),
                      q("essay", category="$course$/top/B")])
    assert text.count("$CATEGORY:") == 2
    assert "// question: 0  name: Switch category to $course$/top/A\n$CATEGORY: $course$/top/A\n\n"\
        in text


def test_weights_near_a_moodle_grade_are_written_as_that_grade() -> None:
    question = q("multiple_response", choices=[
        {"text": t, "weight": w, "feedback": ""}
        for t, w in (("a", 33.33), ("b", 33.33), ("c", 33.34), ("d", -50))])
    assert "~%33.33333%a" in gift.dump([question])
    assert 'fraction="33.33333"' in moodle_xml.dump([question])


@pytest.mark.parametrize("module", [gift, moodle_xml])
@pytest.mark.parametrize(
    ("question", "words"),
    [
        (q("single_choice", choices=[{"text": "a", "weight": 37}, {"text": "b", "weight": 100}]),
         "weight 37% is not a grade Moodle accepts (nearest: 40%)"),
        (q("single_choice", choices=[{"text": "a", "weight": 50}, {"text": "b", "weight": 0}]),
         "exactly one 100% choice"),
        (q("multiple_response", choices=[{"text": "a", "weight": 50}, {"text": "b", "weight": 0}]),
         "add up to 100%"),
        (q("short_answer", answers=[{"text": "a", "weight": 50}]), "worth 100%"),
        (q("numeric", answers=[{"value": 1, "tolerance": -1, "weight": 100}]), "negative"),
        (q("matching", pairs=[{"left": "a", "right": "b"}]), "at least 2 pairs"),
        (q("ordering", items=["only"]), "at least 2"),
        (q("cloze"), "unknown question type"),
        (q("essay", format="rtf"), "unknown text format"),
    ],
)
def test_questions_moodle_would_refuse_are_not_written(module: object, question: dict,
                                                        words: str) -> None:
    with pytest.raises(ExportFormatError) as caught:
        module.dump([question])  # type: ignore[attr-defined]
    assert words in caught.value.message
    assert str(caught.value).startswith("question 'x': ") or question["type"] == "cloze"


@pytest.mark.parametrize(
    "question",
    [
        q("short_answer", answers=[{"text": "a->b", "weight": 100}]),
        q("short_answer", answers=[{"text": "a", "weight": 100, "feedback": "x -> y"}]),
        q("matching", pairs=[{"left": "a->b", "right": "c"}, {"left": "d", "right": "e"}]),
    ],
)
def test_gift_refuses_arrows_it_cannot_escape(question: dict) -> None:
    with pytest.raises(ExportFormatError, match="->"):
        gift.dump([question])
    moodle_xml.dump([question])  # XML has no such limit


def test_gift_drops_only_what_it_cannot_carry() -> None:
    numeric = sample("numeric")
    text = gift.dump([numeric])
    assert "KiB" in text  # in the prompt; the unit itself is not written
    assert "Think about" not in text  # hints
    assert "Vaswani" not in text  # source


# ---------------------------------------------------------------------------------------------
# Moodle XML
# ---------------------------------------------------------------------------------------------


def test_xml_is_well_formed_and_has_moodles_layout() -> None:
    text = moodle_xml.dump([sample(kind) for kind in ("short_answer", "essay", "numeric")])
    root = ET.fromstring(text)
    assert root.tag == "quiz"
    short, essay, numeric = root.findall("question")
    assert short.get("type") == "shortanswer"
    assert short.findtext("name/text") == "Name the score matrix"
    assert short.findtext("idnumber") == "name-of-qkt"
    assert short.findtext("usecase") == "1"
    answers = short.findall("answer")
    assert [(a.get("fraction"), a.get("format"), a.findtext("text")) for a in answers] == [
        ("100", "plain_text", "attention scores"), ("50", "plain_text", "*logits*")]
    assert answers[1].find("feedback").get("format") == "markdown"
    assert [h.findtext("text") for h in short.findall("hint")] == sample("short_answer")["hints"]
    assert [t.findtext("text") for t in short.findall("tags/tag")] == []
    assert essay.findtext("responseformat") == "editor"
    assert essay.findtext("penalty") == "0"
    assert numeric.findtext("units/unit/unit_name") == "KiB"
    assert [a.findtext("tolerance") for a in numeric.findall("answer")] == ["0", "0.5"]


def test_xml_wraps_markup_in_cdata_and_splits_cdata_ends() -> None:
    text = moodle_xml.dump([q("essay", prompt="<b>bold</b> & x ]]> y", title="plain title")])
    assert "<text><![CDATA[<b>bold</b> & x ]]]]><![CDATA[> y]]></text>" in text
    assert "<text>plain title</text>" in text  # no markup: written as it is
    assert ET.fromstring(text).findtext("question/questiontext/text") == "<b>bold</b> & x ]]> y"


def test_xml_escapes_element_content() -> None:
    text = moodle_xml.dump([q("numeric", slug="a&b",
                              answers=[{"value": 1, "tolerance": 0, "weight": 100}],
                              unit="<m>")])
    assert "<idnumber>a&amp;b</idnumber>" in text and "<unit_name>&lt;m&gt;</unit_name>" in text


def test_xml_refuses_characters_xml_cannot_hold() -> None:
    with pytest.raises(ExportFormatError, match="U\\+0001"):
        moodle_xml.dump([q("essay", prompt="bell \x01")])


def test_xml_ordering_uses_qtype_ordering_elements() -> None:
    root = ET.fromstring(moodle_xml.dump([sample("ordering")]))
    question = root.find("question")
    assert question.get("type") == "ordering"
    assert question.findtext("selecttype") == "ALL"
    assert question.findtext("gradingtype") == "ABSOLUTE_POSITION"
    assert [(a.get("fraction"), a.findtext("text")) for a in question.findall("answer")] == [
        (str(i), item) for i, item in enumerate(sample("ordering")["items"], start=1)]


def test_xml_category_pseudo_question() -> None:
    root = ET.fromstring(moodle_xml.dump([q("essay", category="$course$/top/Heads",
                                            tags=["heads", "mine"])]))
    category, essay = root.findall("question")
    assert category.get("type") == "category"
    assert category.findtext("category/text") == "$course$/top/Heads"
    # The tag derived from the category is not written back as a Moodle tag.
    assert [t.findtext("text") for t in essay.findall("tags/tag")] == ["mine"]
