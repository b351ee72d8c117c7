"""Moodle XML import: Moodle's own fixtures, each element we read, and broken files."""

from __future__ import annotations

import pytest

from questions.catalogue.interchange import ImportFormatError, SkippedQuestion, moodle_xml

from .samples import fixture

# ---------------------------------------------------------------------------------------------
# Real Moodle files
# ---------------------------------------------------------------------------------------------


def test_nested_categories_fixture() -> None:
    questions = moodle_xml.parse(fixture("nested_categories_with_questions.xml").encode())
    assert [(q["title"], q["type"], q["category"]) for q in questions] == [
        ("Iota Question", "true_false", "$course$/Iota"),
        ("Kappa Essay Question", "essay", "$course$/Iota/Kappa"),
        ("Kappa Question", "true_false", "$course$/Iota/Kappa"),
        ("Lambda Question", "true_false", "$course$/Iota/Kappa/Lambda"),
        ("Mu Question", "true_false", "$course$/Iota/Mu"),
    ]
    assert [q["tags"] for q in questions] == [["iota"], ["iota-kappa"], ["iota-kappa"],
                                              ["iota-kappa-lambda"], ["iota-mu"]]
    iota = questions[0]
    assert iota["prompt"] == "<p>Testing Iota Question</p>"
    assert (iota["format"], iota["answer"], iota["slug"]) == ("html", True, "iota-question")
    essay = questions[1]
    assert (essay["format"], essay["prompt"]) == ("moodle", "Testing Kappa Essay Question")
    assert essay["source"] == ("Imported from Moodle XML file "
                               "(Moodle category: $course$/Iota/Kappa)")


def test_old_format_file_without_idnumbers() -> None:
    questions = moodle_xml.parse(fixture("old_format_file.xml"))
    assert [(q["slug"], q["category"], q["answer"]) for q in questions] == [
        ("pi-question", "$course$/Pi", True), ("rho-question", "$course$/Pi/Rho", True)]


def test_idnumber_with_html_characters_becomes_a_slug() -> None:
    (q,) = moodle_xml.parse(fixture("html_chars_in_idnumbers.xml"))
    assert q["slug"] == "t-f"  # <idnumber>T &amp; F</idnumber>
    assert q["category"] == "$course$/Alpha"


def test_moodles_invalid_grade_fixture_is_refused_at_the_bad_answer() -> None:
    with pytest.raises(ImportFormatError) as caught:
        moodle_xml.parse(fixture("error_invalid_grades.xml"))
    assert caught.value.line == 38  # <answer fraction="33" ...>
    assert "33%" in caught.value.message and "33.33333%" in caught.value.message


@pytest.fixture(scope="module")
def testcases() -> dict[str, dict]:
    questions = moodle_xml.parse(fixture("moodle_testcases.xml"), filename="cases.xml")
    return {q["type"]: q for q in questions}


def test_testcases_share_the_category(testcases: dict[str, dict]) -> None:
    assert len(testcases) == 6
    for q in testcases.values():
        assert q["category"] == "$course$/top/Moodle test cases"
        assert q["tags"][-1] == "moodle-test-cases"
        assert q["source"] == ("Imported from Moodle XML file 'cases.xml' "
                               "(Moodle category: $course$/top/Moodle test cases)")


def test_matching_subquestions_hints_and_tags(testcases: dict[str, dict]) -> None:
    q = testcases["matching"]
    assert q["pairs"] == [{"left": "A", "right": "a"}, {"left": "B", "right": "b"},
                          {"left": "C", "right": "c"}]
    assert q["distractors"] == ["d"]  # the subquestion with empty text
    assert q["hints"] == ["Hint 1"]  # the second hint is empty
    assert q["tags"] == ["tagmatching", "tagtest", "moodle-test-cases"]
    assert q["explanation"] == "The answer is A -> a, B -> b and C -> c."
    assert q["format"] == "html"


def test_numerical_tolerances_and_star_answer(testcases: dict[str, dict]) -> None:
    q = testcases["numeric"]
    assert q["answers"] == [
        {"value": 42, "tolerance": 0.001, "weight": 100, "feedback": "Well done!"},
        {"value": 13, "tolerance": 1, "weight": 0, "feedback": "What were you thinking?!"},
    ]
    assert q["other_feedback"] == "Completely wrong."
    assert "unit" not in q


def test_shortanswer_usecase_and_wildcard(testcases: dict[str, dict]) -> None:
    q = testcases["short_answer"]
    assert q["case_sensitive"] is False
    assert q["answers"] == [{"text": "Beta", "weight": 100, "feedback": "Well done!"},
                            {"text": "*", "weight": 0, "feedback": "Doh!"}]
    assert q["hints"] == ["Hint 1", "Hint 2"]
    # Eight underscores are the author's, not a missing-word blank: left alone.
    assert q["prompt"] == "Fill in the gap in this sequence: Alpha, ________, Gamma."


def test_truefalse_with_idnumber(testcases: dict[str, dict]) -> None:
    q = testcases["true_false"]
    assert (q["slug"], q["answer"]) == ("testidnum1", True)
    assert (q["feedback_true"], q["feedback_false"]) == ("Well done!", "Doh!")
    assert q["explanation"] == "General feedback: You should have chosen true."


def test_essay(testcases: dict[str, dict]) -> None:
    q = testcases["essay"]
    assert (q["prompt"], q["format"]) == ("Write something.", "moodle")
    assert q["explanation"] == "I hope you wrote something interesting."


def test_ordering_answers_in_file_order(testcases: dict[str, dict]) -> None:
    q = testcases["ordering"]
    assert q["slug"] == "myid"
    assert q["items"] == ["Modular", "Object", "Oriented", "Dynamic", "Learning", "Environment"]
    assert q["explanation"] == ('The correct answer is "Modular Object Oriented Dynamic '
                                'Learning Environment".')
    assert q["hints"] == ["Hint 1", "Hint 2"]


# ---------------------------------------------------------------------------------------------
# Elements, one by one
# ---------------------------------------------------------------------------------------------


def quiz(*questions: str) -> str:
    body = "".join(q.rstrip("\n") + "\n" for q in questions)  # the first question starts on line 3
    return '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + body + "</quiz>\n"


def multichoice(single: str, *answers: tuple[str, str], extra: str = "") -> str:
    body = "".join(f'<answer fraction="{f}" format="html"><text>{t}</text>'
                   f'<feedback><text>fb {t}</text></feedback></answer>\n' for f, t in answers)
    return (f'<question type="multichoice"><name><text>MC</text></name>\n'
            f'<questiontext format="markdown"><text><![CDATA[Pick <one> & only one]]></text>'
            f"</questiontext>\n<single>{single}</single>\n{extra}{body}</question>\n")


def test_multichoice_single_true_and_false() -> None:
    (q,) = moodle_xml.parse(quiz(multichoice("true", ("100", "a"), ("0", "b"))))
    assert q["type"] == "single_choice"
    assert q["prompt"] == "Pick <one> & only one"  # CDATA content as it is
    assert q["format"] == "markdown"
    assert q["choices"] == [{"text": "a", "weight": 100, "feedback": "fb a"},
                            {"text": "b", "weight": 0, "feedback": "fb b"}]
    (q,) = moodle_xml.parse(quiz(multichoice("false", ("50", "a"), ("50", "b"), ("-100", "c"))))
    assert q["type"] == "multiple_response"
    assert [c["weight"] for c in q["choices"]] == [50, 50, -100]


def test_decimal_fractions_of_thirds() -> None:
    (q,) = moodle_xml.parse(quiz(multichoice(
        "false", ("33.33333", "a"), ("33.333", "b"), ("33.3333", "c"), ("-100", "d"))))
    # Moodle matches grades within 0.001 %, so all three are a third, stored as 33.33333.
    assert [c["weight"] for c in q["choices"]] == [33.33333, 33.33333, 33.33333, -100]


def test_fraction_far_from_a_grade_is_refused() -> None:
    with pytest.raises(ImportFormatError) as caught:
        moodle_xml.parse(quiz(multichoice("false", ("33.3", "a"), ("66.66667", "b"))))
    assert caught.value.line == 6
    assert "33.3%" in caught.value.message


def test_text_format_names() -> None:
    def fmt(name: str | None) -> str:
        attr = f' format="{name}"' if name else ""
        xml = quiz(f'<question type="essay"><questiontext{attr}><text>x</text></questiontext>'
                   "</question>")
        return moodle_xml.parse(xml)[0]["format"]

    assert [fmt(n) for n in ("moodle_auto_format", "html", "plain_text", "markdown",
                             "wiki_like", "strange", None)] == [
        "moodle", "html", "plain", "markdown", "plain", "html", "html"]


def test_shortanswer_usecase_one() -> None:
    (q,) = moodle_xml.parse(quiz(
        '<question type="shortanswer"><questiontext><text>Case?</text></questiontext>'
        '<usecase>1</usecase><answer fraction="100"><text>QKV</text></answer></question>'))
    assert q["case_sensitive"] is True
    assert q["answers"] == [{"text": "QKV", "weight": 100, "feedback": ""}]
    assert q["title"] == "Case?"  # no <name>: named by its first words


def test_numerical_units_keep_the_one_with_multiplier_one() -> None:
    (q,) = moodle_xml.parse(quiz(
        '<question type="numerical"><name><text>N</text></name>'
        '<questiontext><text>Size?</text></questiontext>'
        '<answer fraction="100"><text>2048</text><tolerance>0</tolerance></answer>'
        "<units><unit><multiplier>0.001</multiplier><unit_name>MiB</unit_name></unit>"
        "<unit><multiplier>1</multiplier><unit_name>KiB</unit_name></unit></units>"
        "</question>"))
    assert q["unit"] == "KiB"


def test_tags_and_empty_idnumber() -> None:
    (q,) = moodle_xml.parse(quiz(
        '<question type="essay"><name><text>Why heads?</text></name>'
        "<questiontext><text>x</text></questiontext><idnumber></idnumber>"
        "<tags><tag><text>Multi Head</text></tag><tag><text>attention</text></tag></tags>"
        "</question>"))
    assert q["slug"] == "why-heads"
    assert q["tags"] == ["multi-head", "attention"]
    assert "category" not in q


def test_old_category_without_text_element() -> None:
    questions = moodle_xml.parse(quiz(
        '<question type="category"><category>$course$/Old style</category></question>',
        '<question type="essay"><questiontext><text>x</text></questiontext></question>'))
    assert questions[0]["category"] == "$course$/Old style"


def test_truefalse_old_files_without_true_false_text() -> None:
    (q,) = moodle_xml.parse(quiz(
        '<question type="truefalse"><questiontext><text>x</text></questiontext>'
        '<answer fraction="0"><text>Wahr</text><feedback><text>no</text></feedback></answer>'
        '<answer fraction="100"><text>Falsch</text><feedback><text>yes</text></feedback>'
        "</answer></question>"))
    # Moodle's fallback: first answer is "true", second "false".
    assert (q["answer"], q["feedback_true"], q["feedback_false"]) == (False, "no", "yes")


# ---------------------------------------------------------------------------------------------
# Unsupported types and broken files
# ---------------------------------------------------------------------------------------------

CLOZE = ('<question type="cloze"><name><text>cloze with images</text></name>\n'
         '<questiontext format="html"><text><![CDATA[The capital of France is '
         "{1:SHORTANSWER:%100%Paris#Congratulations!}.]]></text></questiontext>\n</question>\n")
DESCRIPTION = ('<question type="description"><name><text>Intro</text></name>\n'
               "<questiontext><text>Read this first.</text></questiontext></question>\n")
ESSAY = '<question type="essay"><questiontext><text>x</text></questiontext></question>\n'


@pytest.mark.parametrize(("question", "moodle_type"), [(CLOZE, "cloze"),
                                                       (DESCRIPTION, "description")])
def test_unsupported_types_are_refused_naming_their_line(question: str, moodle_type: str) -> None:
    with pytest.raises(ImportFormatError) as caught:
        moodle_xml.parse(quiz(ESSAY, question))
    assert caught.value.line == 4
    assert moodle_type in caught.value.message


def test_unsupported_types_can_be_skipped_and_reported() -> None:
    skipped: list[SkippedQuestion] = []
    questions = moodle_xml.parse(quiz(ESSAY, CLOZE, DESCRIPTION, ESSAY), skip_unsupported=True,
                                 skipped=skipped)
    assert len(questions) == 2
    assert [(s.line, s.moodle_type, s.title) for s in skipped] == [
        (4, "cloze", "cloze with images"), (7, "description", "Intro")]
    assert str(skipped[0]).startswith("line 4: skipped cloze question 'cloze with images'")


# Moodle's own test_import_multichoice_19: single=false with two 100% answers. Moodle saves it
# with a notice; its positive weights add up to 200 %, which no FORMAT.md question can be.
MULTICHOICE_19 = """  <question type="multichoice">
    <name>
      <text>Multiple choice question</text>
    </name>
    <questiontext format="html">
      <text>Which are the even numbers?</text>
    </questiontext>
    <single>false</single>
    <answer fraction="0"><text>1</text></answer>
    <answer fraction="100"><text>2</text></answer>
    <answer fraction="0"><text>3</text></answer>
    <answer fraction="100"><text>4</text></answer>
  </question>
"""


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (quiz(ESSAY, "<question type='essay'><name><text>x</name></question>"), 4,
         "malformed XML: mismatched tag"),
        ("<?xml version='1.0'?>\n<quiz>\n<question>\n", 4, "malformed XML"),
        ("", 1, "malformed XML"),
        ("<?xml version='1.0'?>\n<questions/>\n", 2, "not <quiz>"),
        ("<?xml version='1.0'?>\n<!DOCTYPE quiz [<!ENTITY a 'aaaa'>]>\n<quiz/>", 2, "DOCTYPE"),
        (quiz(ESSAY, '<question type="essay"><questiontext><text>\n<p>raw html</p></text>'
                     "</questiontext></question>"), 5, "wrap HTML in CDATA"),
        (quiz(ESSAY, MULTICHOICE_19), 4, "add up to 200%"),
        (quiz(multichoice("true", ("50", "a"), ("0", "b"))), 3, "exactly one 100% choice"),
        (quiz(multichoice("true", ("100", "a"), ("abc", "b"))), 7, "not a number"),
        (quiz(ESSAY, '<question type="numerical"><questiontext><text>n</text></questiontext>'
                     '<answer fraction="100"><text>forty</text></answer></question>'), 4,
         "'forty' is not a number"),
        (quiz(ESSAY, '<question type="numerical"><questiontext><text>n</text></questiontext>'
                     '<answer fraction="100"><text>4</text><tolerance>-1</tolerance></answer>'
                     "</question>"), 4, "tolerance"),
        (quiz(ESSAY, '<question type="matching"><questiontext><text>m</text></questiontext>'
                     "<subquestion><text>a</text><answer><text>b</text></answer></subquestion>"
                     "</question>"), 4, "at least 2 pairs"),
        (quiz(ESSAY, '<question type="truefalse"><questiontext><text>t</text></questiontext>'
                     "</question>"), 4, "no <answer>"),
        (quiz(ESSAY, '<question type="shortanswer"><questiontext><text>t</text></questiontext>'
                     '<answer fraction="50"><text>x</text></answer></question>'), 4, "100%"),
        (quiz('<question type="category"></question>'), 3, "no <category>"),
    ],
)
def test_broken_files_raise_with_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ImportFormatError) as caught:
        moodle_xml.parse(text)
    assert caught.value.line == line, str(caught.value)
    assert words in caught.value.message


def test_bytes_in_another_declared_encoding() -> None:
    data = quiz('<question type="essay"><questiontext><text>Café</text></questiontext>'
                "</question>").replace("UTF-8", "ISO-8859-1").encode("latin-1")
    assert moodle_xml.parse(data)[0]["prompt"] == "Café"
