"""Broken GIFT files: an ImportFormatError naming the line, and nothing imported.

Each broken question comes after valid ones, so a parser that returned what it had read so
far would pass the valid ones through; it must raise instead.
"""

from __future__ import annotations

import pytest

from questions.catalogue.interchange import ImportFormatError, gift

VALID = "::Good one:: Fine {T}\n\n::Good two:: Also fine {=a ~b}\n\n"  # lines 1 and 3


def error_of(text: str) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as caught:
        gift.parse(text)
    return caught.value


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        ("::Bad:: Unclosed {=a ~b\n~c\n", 6, "never closed"),
        ("::Bad:: Stray\nclose } here\n", 7, "without a matching"),
        ("::Bad:: Nested {=a {b} ~c}\n", 6, "inside an answer block"),
        ("::Bad:: Two {=a ~b}\nblocks {=c ~d}\n", 7, "only one answer block"),
        ("::Bad title\nText {}\n", 6, "not closed"),
        ("::Bad:: Weights {\n~%abc%a\n=b}\n", 7, "bad answer weight"),
        ("::Bad:: Weights {\n=a\n~%150%b}\n", 8, "not a grade Moodle accepts"),
        ("::Bad:: Weights {~%33%a ~%33%b ~%34%c}\n", 6, "not a grade Moodle accepts"),
        ("::Bad:: Weights {~%33.33%a ~%33.33%b ~%33.34%c}\n", 6, "nearest: 33.33333%"),
        ("::Bad:: Sum {\n~%40%a\n~%40%b\n~c}\n", 6, "add up to 100%, they add up to 80%"),
        ("::Bad:: No right one {~a ~b}\n", 6, "add up to 100%"),
        ("::Bad:: Two right {=a =b ~c}\n", 6, "exactly one 100% choice, has 2"),
        ("::Bad:: Penalty {=a ~%-50%b}\n", 6, "negative weights"),
        ("::Bad:: One choice {=a}{}\n", 6, "only one answer block"),
        ("::Bad:: Number {#\n=abc}\n", 7, "not a number"),
        ("::Bad:: Range {#5..1}\n", 6, "runs backwards"),
        ("::Bad:: Tolerance {#5:-1}\n", 6, "negative"),
        ("::Bad:: Half {#=%50%3}\n", 6, "worth 100%"),
        ("::Bad:: Match {\n=a -> b\n=c\n=d -> e}\n", 8, "has no '->'"),
        ("::Bad:: Match {=a -> b}\n", 6, "at least 2 pairs"),
        ("::Bad:: Short {=%50%maybe}\n", 6, "worth 100%"),
        ("$CATEGORY: $course$/A\n::Glued:: text {}\n", 7, "blank line after the $CATEGORY"),
        ("::Bad:: Order {>3 ALL\nonly one\n}\n", 6, "at least 2 items"),
    ],
)
def test_broken_question_raises_with_its_line(broken: str, line: int, words: str) -> None:
    error = error_of(VALID + "// the broken one\n" + broken)
    assert error.line == line, str(error)
    assert words in error.message
    assert str(error).startswith(f"line {line}: ")


def test_error_line_counts_lines_inside_a_long_question() -> None:
    error = error_of("A {}\n\n::Q::\nline two\nline three {\n=ok\n~%12%no\n}\n")
    assert error.line == 7


def test_file_that_is_not_utf8() -> None:
    error = error_of("A {}\n\nB caf\xe9 {}".encode("latin-1"))  # type: ignore[arg-type]
    assert error.line == 3
    assert "UTF-8" in error.message


def test_unicode_noncharacters_used_internally_are_refused() -> None:
    error = error_of("A {}\n\nB \ufdd2 {}")
    assert error.line == 3
