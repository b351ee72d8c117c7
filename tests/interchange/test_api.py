"""The package-level API, and the real question bank through both formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from questions.catalogue import interchange
from questions.catalogue.schema import load_bank_dir

from .samples import carried, fixture, sample

BANK = Path(__file__).resolve().parents[2] / "questions" / "bank"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("questions.gift.txt", "gift"),
        ("questions_in_category.gift.txt", "gift"),
        ("examples.gift.txt", "gift"),
        ("nested_categories_with_questions.xml", "moodle_xml"),
        ("error_invalid_grades.xml", "moodle_xml"),
    ],
)
def test_detect_format_on_real_files(name: str, expected: str) -> None:
    assert interchange.detect_format(fixture(name)) == expected
    assert interchange.detect_format(fixture(name).encode()) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\ufeff  <?xml version='1.0'?><quiz/>", "moodle_xml"),
        ("<!-- exported -->\n<quiz>\n</quiz>", "moodle_xml"),
        ("<?xml version='1.0'?><broken", "moodle_xml"),  # still XML: its error names the line
        ("<b>Bold</b> question? {T}", "gift"),
        ("// comment\n::T::<quiz> is a word here {}", "gift"),
        ("", "gift"),
    ],
)
def test_detect_format_edge_cases(text: str, expected: str) -> None:
    assert interchange.detect_format(text) == expected


def test_parse_detects_the_format() -> None:
    assert interchange.parse(fixture("questions.gift.txt"))[0]["source"] == (
        "Imported from GIFT file")
    xml = interchange.parse(fixture("old_format_file.xml").encode(), filename="old.xml")
    assert xml[0]["source"] == ("Imported from Moodle XML file 'old.xml' "
                                "(Moodle category: $course$/Pi)")


def test_parse_with_an_explicit_format_and_skipped_list() -> None:
    skipped: list[interchange.SkippedQuestion] = []
    questions = interchange.parse("A {}\n\nJust text\n", "gift", skip_unsupported=True,
                                  skipped=skipped)
    assert len(questions) == 1 and skipped[0].moodle_type == "description"


def test_a_broken_file_raises_import_format_error_from_the_package() -> None:
    with pytest.raises(interchange.ImportFormatError) as caught:
        interchange.parse(fixture("error_invalid_grades.xml"))
    assert caught.value.line == 38


def test_dump_by_format_name_and_unknown_formats() -> None:
    question = sample("true_false")
    assert interchange.dump([question], "gift").startswith("// question: 1")
    assert interchange.dump([question], "moodle_xml").startswith("<?xml")
    with pytest.raises(ValueError, match="unknown interchange format"):
        interchange.dump([question], "qti")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown interchange format"):
        interchange.parse("A {}", "aiken")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["gift", "moodle_xml"])
def test_the_whole_question_bank_round_trips(fmt: str) -> None:
    docs = load_bank_dir(BANK)
    questions = [q for doc in docs for q in doc.questions]
    assert questions, "the bank is empty"
    text = interchange.dump(questions, fmt)
    back = interchange.parse(text, fmt)
    assert len(back) == len(questions)
    for original, imported in zip(questions, back, strict=True):
        expected = carried(original, fmt)
        if fmt == "gift" and original["type"] == "ordering" and imported["type"] == "matching":
            # Items that need braces cannot be written raw in qtype_ordering's GIFT syntax;
            # they go out as "item -> position" matching instead.
            assert imported["pairs"] == [{"left": item.strip(), "right": str(i)}
                                         for i, item in enumerate(original["items"], start=1)]
            continue
        assert carried(imported, fmt) == expected, original["slug"]
