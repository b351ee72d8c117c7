"""Parsing what learners type: accepted forms, refusals, positions, the comma rule."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attention_engine.parsing import (
    MAX_EXPRESSION_LENGTH,
    MatrixParseError,
    ParseError,
    parse_matrix,
    parse_number,
    parse_vector,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.25", 0.25),
        ("1/4", 0.25),
        ("-3", -3.0),
        ("2.5e-3", 0.0025),
        (".5", 0.5),
        ("1,050,624", 1_050_624.0),
        ("1.05M", 1_050_000.0),
        ("3.2k", 3_200.0),
        ("1.5B", 1.5e9),
        ("2G", 2e9),
        ("4T", 4e12),
        ("50%", 0.5),
        ("1/sqrt(8)", 1 / math.sqrt(8)),
        ("exp(2)/(1+exp(2))", math.exp(2) / (1 + math.exp(2))),
        ("2^3", 8.0),
        ("2**3", 8.0),
        ("2^3^2", 512.0),  # right associative: 2^(3^2) = 2^9
        ("-2^2", -4.0),  # ^ binds tighter than unary minus
        ("(-2)^2", 4.0),
        ("e", math.e),
        ("pi", math.pi),
        ("ln(e)", 1.0),
        ("log(1)", 0.0),
        ("--3", 3.0),
        ("2 * (3 + 4) - 1", 13.0),
        ("\u22121.5", -1.5),  # unicode minus pasted from rendered maths
        ("3 \u00d7 2", 6.0),
        ("  7  ", 7.0),
    ],
)
def test_accepted_forms(text, expected):
    assert parse_number(text) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("__import__('os')", None),
        ("__import__", 0),
        ("os.system('ls')", None),
        ("2pi", 1),  # no implicit multiplication
        ("0,25", 1),  # European decimal comma is refused, not read as 25
        ("1,0500", 5),  # broken thousands group
        ("1/0", 1),
        ("sqrt(-1)", 0),
        ("log(0)", 0),
        ("exp(1000)", 0),
        ("10^400", 2),
        ("", 0),
        ("   ", 0),
        ("(1+2", 4),
        ("1+", 2),
        ("1 2", 2),
        ("2m", 1),  # 'm' is ambiguous (milli / million) and refused
        ("nan", 0),
        ("inf", 0),
        ("x", 0),
        ("1e", 1),
        ("3 $", 2),
    ],
)
def test_refused_forms(text, position):
    with pytest.raises(ParseError) as info:
        parse_number(text)
    assert info.value.message
    if position is not None:
        assert info.value.position == position


def test_length_limit():
    with pytest.raises(ParseError, match="too long"):
        parse_number("1+" * (MAX_EXPRESSION_LENGTH // 2) + "1")


def test_nesting_limit():
    with pytest.raises(ParseError, match="nested"):
        parse_number("(" * 60 + "1" + ")" * 60)
    with pytest.raises(ParseError, match="nested"):
        parse_number("-" * 60 + "1")


def test_non_string_inputs():
    assert parse_number(3) == 3.0
    assert parse_number(0.5) == 0.5
    for bad in (True, None, [1], float("nan"), float("inf")):
        with pytest.raises(ParseError):
            parse_number(bad)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_repr_round_trips(x):
    # Whatever Python prints for a float, a learner may paste back.
    assert parse_number(repr(x)) == x


@given(st.integers(min_value=0, max_value=10**12))
def test_thousands_separators_round_trip(n):
    assert parse_number(f"{n:,}") == n


@given(st.integers(-50, 50), st.integers(1, 50))
def test_fraction_matches_division(p, q):
    assert parse_number(f"{p}/{q}") == p / q


# ---------------------------------------------------------------- matrices


@pytest.mark.parametrize(
    "text",
    [
        "1 2\n3 4",
        "1, 2; 3, 4",
        "1\t2\n3\t4",
        "[[1, 2], [3, 4]]",
        "[1 2; 3 4]",
        "[[1 2] [3 4]]",
        '[["1", "4/2"], [3, 4]]',
        "1 2;\n3 4\n",
        "1 4/2\n3 2^2",
    ],
)
def test_matrix_forms(text):
    assert parse_matrix(text, shape=(2, 2)) == [[1.0, 2.0], [3.0, 4.0]]


def test_matrix_from_values():
    assert parse_matrix([[1, "1/2"], [0.25, 3]]) == [[1.0, 0.5], [0.25, 3.0]]


def test_whitespace_rule_around_operators():
    # numpy/MATLAB reading: "1 -2" is two entries, "1 - 2" is one expression
    assert parse_matrix("1 -2") == [[1.0, -2.0]]
    assert parse_matrix("1 - 2 5") == [[-1.0, 5.0]]
    assert parse_matrix("1 / 4 exp(0)") == [[0.25, 1.0]]


def test_commas_separate_entries_unless_quoted():
    assert parse_matrix("1,050,624") == [[1.0, 50.0, 624.0]]
    assert parse_matrix('"1,050,624", 3') == [[1_050_624.0, 3.0]]
    assert parse_matrix('"1,050,624", "2,000"') == [[1_050_624.0, 2000.0]]
    # A row with a quote is split on commas and tabs only, so a space is not a separator there.
    with pytest.raises(MatrixParseError):
        parse_matrix('"1,050,624" 3')


def test_matrix_errors_name_row_and_column():
    with pytest.raises(MatrixParseError) as info:
        parse_matrix("1 x\n3 nan", shape=(2, 2))
    cells = [(e.row, e.col) for e in info.value.errors]
    assert cells == [(0, 1), (1, 1)]
    assert "row 1, column 2" in info.value.errors[0].message
    assert "row 2, column 2" in info.value.errors[1].message


def test_empty_cell_is_reported():
    with pytest.raises(MatrixParseError) as info:
        parse_matrix("1,,3", shape=(1, 3))
    assert [(e.row, e.col) for e in info.value.errors] == [(0, 1)]
    assert "empty" in info.value.errors[0].message


def test_shape_errors():
    with pytest.raises(MatrixParseError) as info:
        parse_matrix("1 2\n3", shape=(2, 2))
    assert [(e.row, e.col) for e in info.value.errors] == [(1, None)]
    with pytest.raises(MatrixParseError) as info:
        parse_matrix("1 2", shape=(2, 2))
    assert info.value.errors[0].row is None and "2 rows" in info.value.errors[0].message
    with pytest.raises(MatrixParseError, match="different lengths"):
        parse_matrix("1 2\n3")
    with pytest.raises(MatrixParseError, match="empty"):
        parse_matrix("   ")


def test_matrix_rejects_nested_and_non_numbers():
    with pytest.raises(MatrixParseError) as info:
        parse_matrix([[1, [2]], [None, True]])
    assert [(e.row, e.col) for e in info.value.errors] == [(0, 1), (1, 0), (1, 1)]
    with pytest.raises(MatrixParseError):
        parse_matrix({"a": 1})


def test_vectors():
    assert parse_vector("1 2 3") == [1.0, 2.0, 3.0]
    assert parse_vector("1\n2\n3") == [1.0, 2.0, 3.0]  # a column is a vector too
    assert parse_vector([1, "1/2"]) == [1.0, 0.5]
    assert parse_vector("[0.5, 0.25]", length=2) == [0.5, 0.25]
    with pytest.raises(MatrixParseError) as info:
        parse_vector("1, ,3")
    assert [(e.row, e.col) for e in info.value.errors] == [(None, 1)]
    assert "entry 2" in info.value.errors[0].message
    with pytest.raises(MatrixParseError, match="expected 3 entries"):
        parse_vector("1 2", length=3)
    with pytest.raises(MatrixParseError, match="single row or column"):
        parse_vector("1 2\n3 4")


@given(
    st.lists(
        st.lists(st.integers(-1000, 1000).map(lambda n: n / 8), min_size=3, max_size=3),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from([" ", ", ", "\t"]),
    st.sampled_from(["\n", "; "]),
)
def test_matrix_text_round_trip(rows, col_sep, row_sep):
    text = row_sep.join(col_sep.join(repr(x) for x in row) for row in rows)
    assert parse_matrix(text, shape=(len(rows), 3)) == rows
