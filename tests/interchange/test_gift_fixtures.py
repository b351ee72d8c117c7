"""Moodle's own GIFT test files parse to the questions Moodle's tests expect."""

from __future__ import annotations

import pytest

from questions.catalogue.interchange import gift

from .samples import fixture


@pytest.fixture(scope="module")
def moodle_questions() -> dict[str, dict]:
    questions = gift.parse(fixture("questions.gift.txt"), filename="questions.gift.txt")
    return {q["slug"]: q for q in questions}


def test_questions_fixture_types_and_titles(moodle_questions: dict[str, dict]) -> None:
    summary = [(slug, q["type"], q["title"]) for slug, q in moodle_questions.items()]
    assert summary == [
        ("q8", "essay", "Q8"),
        ("moodle-activities", "matching", "Moodle activities"),
        ("q2", "single_choice", "Q2"),
        ("colours", "multiple_response", "colours"),
        ("q5", "numeric", "Q5"),
        ("shortanswer", "short_answer", "Shortanswer"),
        ("q1", "true_false", "Q1"),
        ("2-08-tsl", "true_false", "2-08 TSL"),
        ("2-08-tsl-2", "true_false", "2-08 TSL"),  # same title twice: slugs stay unique
    ]
    for q in moodle_questions.values():
        assert q["source"] == "Imported from GIFT file 'questions.gift.txt'"
        assert q["difficulty"] == "medium"
        assert q["hints"] == []


def test_essay(moodle_questions: dict[str, dict]) -> None:
    q = moodle_questions["q8"]
    assert (q["prompt"], q["format"], q["explanation"]) == ("How are you?", "moodle", "")


def test_matching_with_per_subquestion_formats_and_a_distractor(
        moodle_questions: dict[str, dict]) -> None:
    q = moodle_questions["moodle-activities"]
    assert q["format"] == "html"
    assert q["prompt"] == "Match the <b>activity</b> to the description."
    assert q["pairs"] == [
        {"left": "An activity supporting asynchronous discussions.", "right": "Forum"},
        {"left": "A teacher asks a question and specifies a choice of multiple responses.",
         "right": "Choice"},
        {"left": "A bank of record entries which participants can add to.", "right": "Database"},
        {"left": "A collection of web pages that anyone can add to or edit.", "right": "Wiki"},
    ]
    assert q["distractors"] == ["Chat"]


def test_single_choice_with_feedback(moodle_questions: dict[str, dict]) -> None:
    q = moodle_questions["q2"]
    assert q["prompt"] == "What's between orange and green in the spectrum?"
    assert q["choices"] == [
        {"text": "yellow", "weight": 100, "feedback": "right; good!"},
        {"text": "red", "weight": 0, "feedback": "wrong, it's yellow"},
        {"text": "blue", "weight": 0, "feedback": "wrong, it's yellow"},  # [plain] tag dropped
    ]


def test_multiple_response_with_negative_weights(moodle_questions: dict[str, dict]) -> None:
    q = moodle_questions["colours"]
    assert [(c["text"], c["weight"]) for c in q["choices"]] == [
        ("yellow", 50), ("red", -100), ("off-beige", 50), ("blue", -100)]
    assert [c["feedback"] for c in q["choices"]] == ["right; good!", "wrong", "right; good!",
                                                     "wrong"]


def test_numerical_with_wrong_answer_feedback(moodle_questions: dict[str, dict]) -> None:
    q = moodle_questions["q5"]
    assert q["answers"] == [{"value": 3, "tolerance": 2, "weight": 100, "feedback": ""}]
    assert q["other_feedback"] == "Completely wrong"
    # The fixture has '";' after the closing brace (a PHP-string leftover): Moodle's file
    # import then sees a missing-word question, and so do we.
    assert q["prompt"] == 'What is a number from 1 to 5? _____";'


def test_short_answer_weights_and_wildcard(moodle_questions: dict[str, dict]) -> None:
    q = moodle_questions["shortanswer"]
    assert q["answers"] == [
        {"text": "Frog", "weight": 100, "feedback": "Good!"},
        {"text": "Cat", "weight": 50, "feedback": "What is it with Moodlers and cats?"},
        {"text": "*", "weight": 0, "feedback": "Completely wrong"},
    ]
    assert q["case_sensitive"] is False


def test_true_false_feedback_goes_to_the_answer_picked(moodle_questions: dict[str, dict]) -> None:
    q = moodle_questions["q1"]
    # {FALSE#wrong feedback#right feedback}: a learner picking "true" is wrong.
    assert q["answer"] is False
    assert q["feedback_true"] == "42 is the Ultimate Answer."
    assert q["feedback_false"] == "You gave the right answer."
    assert q["explanation"] == "This is, of course, a Hitchiker's Guide to the Galaxy reference."


def test_true_false_short_forms(moodle_questions: dict[str, dict]) -> None:
    assert moodle_questions["2-08-tsl"]["answer"] is True  # {T}
    assert moodle_questions["2-08-tsl-2"]["answer"] is True  # {TRUE}
    assert moodle_questions["2-08-tsl"]["prompt"] == "TSL is blablabla."


def test_category_fixture() -> None:
    questions = gift.parse(fixture("questions_in_category.gift.txt"))
    assert [q["type"] for q in questions] == ["matching", "single_choice", "short_answer",
                                             "true_false"]
    for q in questions:
        assert q["category"] == "$course$/Default for New Features"
        assert q["tags"] == ["default-for-new-features"]
        assert q["format"] == "html"
        assert q["source"] == ("Imported from GIFT file "
                               "(Moodle category: $course$/Default for New Features)")
    greeting = questions[1]
    assert greeting["prompt"] == (
        '<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3">Listen to this greeting:'
        "</a><br /><br />What language is being spoken?")
    assert [c["weight"] for c in greeting["choices"]] == [0, 100, 0, 0]
    user = questions[2]
    assert user["answers"] == [{"text": "Moodler", "weight": 100, "feedback": ""}]  # =%100%...#
    acronym = questions[3]
    assert acronym["answer"] is True
    assert 'style="font-style: italic;"' in acronym["prompt"]


@pytest.fixture(scope="module")
def examples() -> list[dict]:
    return gift.parse(fixture("examples.gift.txt"))


def test_examples_file_imports_completely(examples: list[dict]) -> None:
    assert len(examples) == 43
    assert len({q["slug"] for q in examples}) == 43
    counts: dict[str, int] = {}
    for q in examples:
        counts[q["type"]] = counts.get(q["type"], 0) + 1
    assert counts == {"single_choice": 16, "short_answer": 9, "true_false": 5, "numeric": 8,
                      "matching": 3, "multiple_response": 2}


def _by_title(examples: list[dict], title: str) -> list[dict]:
    return [q for q in examples if q["title"] == title]


def test_examples_missing_word(examples: list[dict]) -> None:
    q = _by_title(examples, "Grant's Tomb")[0]
    assert q["prompt"] == "Grant is _____ in Grant's tomb."
    assert [c["weight"] for c in q["choices"]] == [0, 100, 0]
    assert q["choices"][2]["feedback"] == "We hope not!"
    thanksgiving = _by_title(examples, "Thanksgiving Date")[0]
    # Lines are joined with a newline, as Moodle does; the blank sits where the braces were.
    assert thanksgiving["prompt"] == ("The American holiday of Thanksgiving is\ncelebrated on "
                                      "the _____ Thursday of November.")


def test_examples_untitled_questions_are_named_by_their_first_words(examples: list[dict]) -> None:
    first = examples[0]
    assert first["title"] == "Who's buried in Grant's tomb?"
    assert first["slug"] == "whos-buried-in-grants-tomb"
    assert examples[5]["slug"] == "whos-buried-in-grants-tomb-3"


def test_examples_numerical_forms(examples: list[dict]) -> None:
    pi = [q for q in examples if q["prompt"].startswith("What is the value of pi")]
    assert [q["answers"] for q in pi] == [
        [{"value": 3.1415, "tolerance": 0.0005, "weight": 100, "feedback": ""}],  # 3.1415:0.0005
        [{"value": 3.1415, "tolerance": 0.0005, "weight": 100, "feedback": ""}],  # 3.141..3.142
    ]
    born = _by_title(examples, "Numerical example")[0]
    assert [(a["value"], a["tolerance"], a["weight"]) for a in born["answers"]] == [
        (1822, 0, 100), (1822, 2, 50)]
    # Moodle trims every line of the file, so the continuation line loses its indent.
    assert born["answers"][1]["feedback"] == ("He was born in 1822.\n"
                                              "You get 50% credit for being close.")


def test_examples_escaped_control_characters(examples: list[dict]) -> None:
    q = _by_title(examples, "GIFT Control Characters")[0]
    assert [c["text"] for c in q["choices"]] == ["~", "=", "#", "{", "}", "\\"]
    assert [c["weight"] for c in q["choices"]] == [0, 0, 0, 0, 0, 100]
    assert q["choices"][3]["feedback"] == "{ is a control character."
    equals = [q for q in examples if q["prompt"] == "Which answer equals 5?"][0]
    assert [c["text"] for c in equals["choices"]] == ["= 2 + 2", "= 2 + 3", "= 2 + 4"]


def test_examples_markdown_and_matching_without_spaces(examples: list[dict]) -> None:
    markdown = [q for q in examples if q["format"] == "markdown"]
    assert [q["prompt"] for q in markdown] == ["Who's buried in **Grant's tomb**?"]
    capitals = [q for q in examples if q["type"] == "matching"][-1]
    assert capitals["pairs"] == [{"left": "Canada", "right": "Ottawa"},
                                 {"left": "Italy", "right": "Rome"},
                                 {"left": "Japan", "right": "Tokyo"}]


def test_examples_partial_credit(examples: list[dict]) -> None:
    hometown = _by_title(examples, "Jesus' hometown")
    assert [c["weight"] for c in hometown[0]["choices"]] == [0, 25, 50, 100]
    assert hometown[0]["prompt"] == "Jesus Christ was from _____."
    assert [(a["text"], a["weight"]) for a in hometown[1]["answers"]] == [
        ("Nazareth", 100), ("Nazereth", 75), ("Bethlehem", 25)]
    two = [q for q in examples if q["type"] == "multiple_response"]
    assert [c["weight"] for c in two[0]["choices"]] == [0, 50, 50, 0]
    assert [c["weight"] for c in two[1]["choices"]] == [-50, 50, 50, -50]


def test_ordering_fixture_from_core_qtype_ordering() -> None:
    (q,) = gift.parse(fixture("ordering_testexport.gift.txt"))
    assert q["type"] == "ordering"
    assert q["slug"] == "myid"  # from the "// [id:myid]" comment
    assert q["format"] == "html"
    # ">2     none": count 2, numbering style "none"; the rest are the items, in order.
    assert q["items"] == ["Modular", "Object", "Oriented", "Dynamic", "Learning", "Environment"]
