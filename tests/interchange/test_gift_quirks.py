"""One test per GIFT quirk, each checked against what Moodle's format.php does."""

from __future__ import annotations

import pytest

from questions.catalogue.interchange import ImportFormatError, SkippedQuestion, gift


def one(text: str) -> dict:
    (question,) = gift.parse(text)
    return question


def test_title_between_double_colons() -> None:
    q = one("::Scaling factor:: Why divide by sqrt(d_k)? {}")
    assert q["title"] == "Scaling factor"
    assert q["prompt"] == "Why divide by sqrt(d_k)?"
    assert q["slug"] == "scaling-factor"


def test_escaped_colons_stay_in_the_title() -> None:
    q = one("::Ratio 1\\:2:: Text {}")
    assert q["title"] == "Ratio 1:2"


def test_comment_lines_are_ignored_even_inside_a_question() -> None:
    q = one("// a comment\n::T::First line\n// not part of the text\nsecond line{}")
    # Moodle blanks the comment line (a space), and keeps the line break around it.
    assert q["prompt"] == "First line\n \nsecond line"


def test_blank_lines_separate_questions_and_single_newlines_do_not() -> None:
    questions = gift.parse("Q one\ncontinues {}\n\n\n   \nQ two {}\n")
    assert [q["prompt"] for q in questions] == ["Q one\ncontinues", "Q two"]


def test_category_lines_apply_to_the_questions_after_them() -> None:
    questions = gift.parse("$CATEGORY: $course$/top/Attention/Masks\n\n"
                           "A {}\n\nB {}\n\n$CATEGORY: $course$/top/Heads\n\nC {}")
    assert [(q["prompt"], q["category"]) for q in questions] == [
        ("A", "$course$/top/Attention/Masks"), ("B", "$course$/top/Attention/Masks"),
        ("C", "$course$/top/Heads")]
    assert questions[0]["tags"] == ["attention-masks"]  # context and "top" dropped
    assert questions[2]["tags"] == ["heads"]
    assert "Moodle category: $course$/top/Heads" in questions[2]["source"]


@pytest.mark.parametrize("tag", ["html", "moodle", "plain", "markdown"])
def test_format_tags(tag: str) -> None:
    q = one(f"::T::[{tag}]Some *text*{{=a#[html]<b>ok</b> ~b}}")
    assert q["format"] == tag
    assert q["prompt"] == "Some *text*"
    assert q["choices"][0]["feedback"] == "<b>ok</b>"  # per-answer tag read and dropped


def test_no_format_tag_means_moodle_auto_format_and_unknown_tags_are_text() -> None:
    assert one("Plain {}")["format"] == "moodle"
    q = one("[wiki]Not a tag {}")
    assert (q["format"], q["prompt"]) == ("moodle", "[wiki]Not a tag")


def test_escapes() -> None:
    q = one("::Esc:: a\\~b \\= c \\# d \\{e\\} f\\: back\\\\slash line\\nbreak {=x\\=1}")
    assert q["prompt"] == "a~b = c # d {e} f: back\\slash line\nbreak"
    assert q["answers"][0]["text"] == "x=1"


def test_a_lone_backslash_before_an_ordinary_character_is_kept() -> None:
    assert one("LaTeX \\frac{}")["prompt"] == "LaTeX \\frac"


def test_equals_marks_the_right_answer_and_tilde_the_wrong_ones() -> None:
    q = one("Pick {~wrong =right ~also wrong}")
    assert q["type"] == "single_choice"
    assert [(c["text"], c["weight"]) for c in q["choices"]] == [
        ("wrong", 0), ("right", 100), ("also wrong", 0)]


def test_percent_weights_partial_and_negative() -> None:
    q = one("Pick {~%50%half ~%-100%bad ~%50%other half}")
    assert q["type"] == "multiple_response"  # no "=": Moodle makes it multiple-answer
    assert [c["weight"] for c in q["choices"]] == [50, -100, 50]
    q = one("Pick {=best ~%50%half ~bad}")
    assert q["type"] == "single_choice"  # an "=" answer: single answer, partial credit allowed
    assert [c["weight"] for c in q["choices"]] == [100, 50, 0]


def test_decimal_weights_snap_to_moodle_grades() -> None:
    q = one("Pick {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}")
    assert [c["weight"] for c in q["choices"]] == [33.33333, 33.33333, 33.33333, -100]


def test_per_answer_feedback() -> None:
    q = one("Pick {=yes # because ~no #not so}")
    assert [c["feedback"] for c in q["choices"]] == ["because", "not so"]


def test_general_feedback_after_four_hashes() -> None:
    q = one("Pick {=yes ~no ####[html]<p>Why</p>}")
    assert q["explanation"] == "<p>Why</p>"
    assert len(q["choices"]) == 2


@pytest.mark.parametrize(("mark", "answer"), [("T", True), ("TRUE", True), ("F", False),
                                              ("FALSE", False)])
def test_true_false_marks(mark: str, answer: bool) -> None:
    q = one(f"Statement {{{mark}}}")
    assert (q["type"], q["answer"]) == ("true_false", answer)


def test_true_false_feedback_is_wrong_then_right() -> None:
    q = one("Statement {T#You picked false, which is wrong#Well done}")
    assert q["feedback_false"] == "You picked false, which is wrong"
    assert q["feedback_true"] == "Well done"
    q = one("Statement {FALSE#You picked true, which is wrong#Well done}")
    assert q["feedback_true"] == "You picked true, which is wrong"
    assert q["feedback_false"] == "Well done"


def test_true_false_marks_are_case_sensitive_like_moodle() -> None:
    q = one("Statement {=true}")
    assert q["type"] == "short_answer"


def test_numerical_value_and_tolerance() -> None:
    q = one("d_k? {#64:0.5}")
    assert q["answers"] == [{"value": 64, "tolerance": 0.5, "weight": 100, "feedback": ""}]


def test_numerical_range_becomes_midpoint_and_half_width() -> None:
    q = one("Between? {#1.5..2.5}")
    assert (q["answers"][0]["value"], q["answers"][0]["tolerance"]) == (2, 0.5)
    q = one("Pi? {#3.141..3.142}")
    assert (q["answers"][0]["value"], q["answers"][0]["tolerance"]) == (3.1415, 0.0005)


def test_numerical_exact_and_exponent_forms() -> None:
    assert one("n? {#4}")["answers"][0] == {"value": 4, "tolerance": 0, "weight": 100,
                                            "feedback": ""}
    assert one("eps? {#1e-5:2.5E-6}")["answers"][0]["value"] == 1e-5
    assert one("neg? {#-3:1}")["answers"][0]["value"] == -3


def test_several_numerical_answers_with_weights_and_feedback() -> None:
    q = one("Born? {#\n=1822:0#Exactly\n=%50%1822:2#Close\n~#Way off}")
    assert q["answers"] == [
        {"value": 1822, "tolerance": 0, "weight": 100, "feedback": "Exactly"},
        {"value": 1822, "tolerance": 2, "weight": 50, "feedback": "Close"},
    ]
    assert q["other_feedback"] == "Way off"


def test_short_answer_with_all_equals_answers_and_wildcard() -> None:
    q = one("Name it {=attention scores =%50%*logit* #close =%0%*#no}")
    assert q["type"] == "short_answer"
    assert q["answers"] == [
        {"text": "attention scores", "weight": 100, "feedback": ""},
        {"text": "*logit*", "weight": 50, "feedback": "close"},
        {"text": "*", "weight": 0, "feedback": "no"},
    ]


def test_matching_pairs_and_distractor() -> None:
    q = one("Match {=Q -> query =K -> key = -> value}")
    assert q["pairs"] == [{"left": "Q", "right": "query"}, {"left": "K", "right": "key"}]
    assert q["distractors"] == ["value"]


def test_essay() -> None:
    q = one("Discuss multi-head attention. {####Any two reasons.}")
    assert (q["type"], q["explanation"]) == ("essay", "Any two reasons.")


def test_missing_word_keeps_text_before_and_after_around_a_blank() -> None:
    q = one("Attention weights sum to {=1 =one} over the keys.")
    assert q["prompt"] == "Attention weights sum to _____ over the keys."
    q = one("Attention weights sum to {=1 =one}")  # answers at the end: no blank
    assert q["prompt"] == "Attention weights sum to"


def test_idnumber_and_tags_in_comments() -> None:
    q = one("// [id:Mask\\]1] and [tag:masking] [tag: Decoder Only ]\n::T:: Text {}")
    assert q["slug"] == "mask-1"
    assert q["tags"] == ["masking", "decoder-only"]


def test_ordering_block_of_core_qtype_ordering() -> None:
    q = one("::Order:: Order the steps.{>3 ALL VERTICAL ABSOLUTE_POSITION SHOW none\n"
            "Scores\nSoftmax\nWeighted sum\n####Scores come first.}")
    assert q["type"] == "ordering"
    assert q["items"] == ["Scores", "Softmax", "Weighted sum"]
    assert q["explanation"] == "Scores come first."


def test_description_is_refused_by_default_with_its_line() -> None:
    with pytest.raises(ImportFormatError) as caught:
        gift.parse("A {}\n\n// intro\nJust some text, no answers.\n")
    assert caught.value.line == 4
    assert "description" in caught.value.message


def test_description_can_be_skipped_and_reported() -> None:
    skipped: list[SkippedQuestion] = []
    questions = gift.parse("A {}\n\n::Intro:: Just text.\n\nB {}", skip_unsupported=True,
                           skipped=skipped)
    assert [q["prompt"] for q in questions] == ["A", "B"]
    assert [(s.line, s.moodle_type, s.title) for s in skipped] == [(3, "description", "Intro")]


def test_bytes_with_bom_and_windows_line_ends() -> None:
    questions = gift.parse("\ufeffA {}\r\n\r\nB {T}\r\n".encode())
    assert [q["type"] for q in questions] == ["essay", "true_false"]
