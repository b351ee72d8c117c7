"""Parse what a learner types: numbers, safe arithmetic expressions, vectors and matrices.

Torch-free and eval-free. Numbers go through a tiny recursive-descent parser over a token list,
so ``__import__('os')`` is just an unknown name, never code.

Accepted scalar forms (``parse_number``)
    ``0.25``  ``-3``  ``2.5e-3``  ``1/4``  ``2^3`` (also ``2**3``)
    ``1,050,624``  thousands separators: groups of exactly three digits after the first comma
    ``1.05M`` ``3.2k`` ``1.5B`` ``2G`` ``4T``  suffixes k/K = 1e3, M = 1e6, B/G = 1e9, T = 1e12
                (``m`` is refused: milli or million would be a guess)
    ``50%``   a percent sign right after a number divides it by 100 (so ``50%`` = 0.5)
    ``1/sqrt(8)``  ``exp(2)/(1+exp(2))``  ``log(2)`` = ``ln(2)`` (natural log)  ``e``  ``pi``
    The unicode minus and multiplication signs pasted from rendered maths (``−``, ``×``, ``·``)
    are read as ``-`` and ``*``.
    Precedence: ``^`` binds tighter than unary minus (``-2^2`` = -4) and is right associative.
    There is no implicit multiplication (``2pi`` is an error: write ``2*pi``).

Matrices (``parse_matrix``) and vectors (``parse_vector``)
    A JSON-style list (``[[1, 2], [3, 4]]``; strings inside are parsed as expressions), a list
    value already decoded, or text: rows are separated by newlines or ``;``.
    Inside a row, **commas and tabs separate entries** when the row has any; otherwise whitespace
    does (numpy / MATLAB style: ``1 -2`` is two entries, ``1 - 2`` is one). A comma therefore
    never means "thousands" inside a matrix unless the cell is quoted: ``"1,050,624", 3``.
    Surrounding brackets (``[1 2; 3 4]``) are ignored.

Errors carry a position: ``ParseError.position`` is a 0-based character offset in the cell;
matrix errors are ``CellError(row, col, message)`` with 0-based ``row``/``col`` (``None`` when
the error is about the whole shape) and 1-based numbers in the human message.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_EXPRESSION_LENGTH = 200
MAX_NESTING = 40
MAX_MATRIX_CELLS = 10_000

SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
CONSTANTS = {"e": math.e, "pi": math.pi}


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError("log needs a positive argument")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError("sqrt needs a non-negative argument")
    return math.sqrt(x)


FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sqrt": _sqrt,
    "exp": math.exp,
    "log": _log,
    "ln": _log,
}

_TRANSLATE = str.maketrans({"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u2013": "-"})
# A number with strict thousands groups, or a plain decimal with optional exponent.
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


class ParseError(ValueError):
    """A scalar could not be read; ``position`` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class CellError:
    """One problem in a matrix or vector answer; ``row``/``col`` are 0-based, ``None`` = whole."""

    row: int | None
    col: int | None
    message: str


class MatrixParseError(ValueError):
    """A matrix or vector could not be read; ``errors`` lists every bad cell, not just the first."""

    def __init__(self, errors: list[CellError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class _Token:
    kind: str  # "num" | "name" | "op" | "end"
    value: Any
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            literal = number.group()
            value = float(literal.replace(",", ""))
            end = number.end()
            if "," in literal and end < len(text) and text[end].isdigit():
                raise ParseError("thousands groups must have exactly three digits", end)
            # A trailing ',' followed by digits here means broken grouping like "1,05" or "0,25".
            if end < len(text) and text[end] == "," and end + 1 < len(text) and text[end + 1].isdigit():
                raise ParseError(
                    "a comma inside a number must separate groups of three digits "
                    "(use a point for decimals: 0.25)",
                    end,
                )
            name = _NAME.match(text, end)
            if name:
                suffix = name.group()
                if suffix not in SUFFIXES:
                    raise ParseError(
                        f"unexpected '{suffix}' right after a number (write '*' to multiply; "
                        "allowed suffixes are k, M, B, G, T)",
                        end,
                    )
                value *= SUFFIXES[suffix]
                end = name.end()
            if end < len(text) and text[end] == "%":
                value /= 100.0
                end += 1
            tokens.append(_Token("num", value, i))
            i = end
            continue
        name = _NAME.match(text, i)
        if name:
            tokens.append(_Token("name", name.group(), i))
            i = name.end()
            continue
        if text.startswith("**", i):
            tokens.append(_Token("op", "^", i))
            i += 2
            continue
        if ch in "+-*/^()":
            tokens.append(_Token("op", ch, i))
            i += 1
            continue
        raise ParseError(f"unexpected character '{ch}'", i)
    tokens.append(_Token("end", None, len(text)))
    return tokens


class _Parser:
    """Grammar (lowest to highest precedence)::

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/') unary)*
    unary  := ('-' | '+') unary | power
    power  := atom ('^' unary)?          right associative; -2^2 = -(2^2)
    atom   := NUMBER | CONSTANT | FUNC '(' expr ')' | '(' expr ')'
    """

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.value != op:
            found = "the end" if token.kind == "end" else f"'{token.value}'"
            raise ParseError(f"expected '{op}' but found {found}", token.position)

    def nest(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ParseError("expression is nested too deeply", position)

    def expr(self) -> float:
        value = self.term()
        while self.peek().kind == "op" and self.peek().value in "+-":
            op = self.take().value
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self) -> float:
        value = self.unary()
        while self.peek().kind == "op" and self.peek().value in "*/":
            token = self.take()
            rhs = self.unary()
            if token.value == "*":
                value = value * rhs
            elif rhs == 0:
                raise ParseError("division by zero", token.position)
            else:
                value = value / rhs
        return value

    def unary(self) -> float:
        token = self.peek()
        if token.kind == "op" and token.value in "+-":
            self.take()
            self.nest(token.position)
            value = self.unary()
            self.depth -= 1
            return -value if token.value == "-" else value
        return self.power()

    def power(self) -> float:
        base = self.atom()
        token = self.peek()
        if token.kind == "op" and token.value == "^":
            self.take()
            self.nest(token.position)
            exponent = self.unary()
            self.depth -= 1
            try:
                result = math.pow(base, exponent)
            except (OverflowError, ValueError) as exc:
                raise ParseError(f"cannot compute {base:g}^{exponent:g}", token.position) from exc
            return result
        return base

    def atom(self) -> float:
        token = self.take()
        if token.kind == "num":
            return float(token.value)
        if token.kind == "name":
            name = token.value
            if name in CONSTANTS:
                return CONSTANTS[name]
            if name in FUNCTIONS:
                self.expect("(")
                self.nest(token.position)
                argument = self.expr()
                self.depth -= 1
                self.expect(")")
                try:
                    return FUNCTIONS[name](argument)
                except (OverflowError, ValueError) as exc:
                    raise ParseError(f"cannot compute {name}({argument:g}): {exc}", token.position) from exc
            allowed = ", ".join(sorted([*CONSTANTS, *FUNCTIONS]))
            raise ParseError(f"unknown name '{name}' (allowed: {allowed})", token.position)
        if token.kind == "op" and token.value == "(":
            self.nest(token.position)
            value = self.expr()
            self.depth -= 1
            self.expect(")")
            return value
        if token.kind == "end":
            raise ParseError("expression ends too early", token.position)
        raise ParseError(f"unexpected '{token.value}'", token.position)


def parse_number(text: str | int | float) -> float:
    r"""Read one scalar: a number, a suffixed or grouped number, or a safe expression.

    Returns a finite ``float``; raises ``ParseError(message, position)`` otherwise. ``bool`` is
    refused (``True`` is not an answer), as are NaN and infinities.
    """
    if isinstance(text, bool):
        raise ParseError("expected a number, got a true/false value", 0)
    if isinstance(text, numbers.Real):  # int, float, Fraction, numpy scalars
        try:
            value = float(text)
        except OverflowError:  # an int or Fraction beyond any float, e.g. 10**400 sent as JSON
            raise ParseError("the value must be a finite number", 0) from None
        if not math.isfinite(value):
            raise ParseError("the value must be a finite number", 0)
        return value
    if not isinstance(text, str):
        raise ParseError(f"expected a number, got {type(text).__name__}", 0)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ParseError(f"too long (at most {MAX_EXPRESSION_LENGTH} characters)", MAX_EXPRESSION_LENGTH)
    cleaned = text.translate(_TRANSLATE)
    if not cleaned.strip():
        raise ParseError("empty", 0)
    parser = _Parser(_tokenize(cleaned))
    value = parser.expr()
    trailing = parser.peek()
    if trailing.kind != "end":
        raise ParseError(f"unexpected '{trailing.value}' (missing operator?)", trailing.position)
    if not math.isfinite(value):
        raise ParseError("the value is not a finite number", 0)
    return value


# ---------------------------------------------------------------------------------------------
# Vectors and matrices


def _cell_message(row: int | None, col: int | None, message: str) -> str:
    if row is None:
        return message
    if col is None:
        return f"row {row + 1}: {message}"
    return f"row {row + 1}, column {col + 1}: {message}"


def _error(row: int | None, col: int | None, message: str) -> CellError:
    return CellError(row, col, _cell_message(row, col, message))


_BINARY_OPS = ("*", "/", "^", "+")


def _split_row(row: str) -> list[str]:
    """Split one text row into cell strings (see the module docstring for the comma rule)."""
    if any(sep in row for sep in ',\t"'):
        cells: list[str] = []
        current: list[str] = []
        quoted = False
        for ch in row:
            if ch == '"':
                quoted = not quoted
            elif ch in ",\t" and not quoted:
                cells.append("".join(current).strip())
                current = []
            else:
                current.append(ch)
        cells.append("".join(current).strip())
        return cells
    # Whitespace-separated: glue pieces back together around lone operators, so "1 / 4" is
    # one cell while "1 -2" stays two (the numpy/MATLAB reading).
    pieces = row.split()
    cells = []
    for piece in pieces:
        glue = cells and (
            cells[-1].endswith(("*", "/", "^", "+", "-", "("))
            or piece.startswith(_BINARY_OPS)
            or piece.startswith(")")
            or piece == "-"
        )
        if glue:
            cells[-1] += piece
        else:
            cells.append(piece)
    return cells


def _text_rows(text: str) -> list[list[str]]:
    stripped = text.strip()
    # "[1 2; 3 4]" or "[[1 2] [3 4]]": brackets only delimit, a closing bracket ends a row.
    if stripped.startswith("["):
        stripped = re.sub(r"\]\s*,?", ";", stripped).replace("[", "")
    rows = [r for r in re.split(r"[;\n]", stripped) if r.strip()]
    return [_split_row(r) for r in rows]


def _value_rows(value: Any) -> list[list[Any]] | None:
    """Rows of a decoded list value, or ``None`` if ``value`` is not a list."""
    if not isinstance(value, list | tuple):
        return None
    if all(isinstance(r, list | tuple) for r in value):
        return [list(r) for r in value]
    return [list(value)]


def _raw_rows(text_or_value: Any) -> list[list[Any]]:
    if hasattr(text_or_value, "tolist") and not isinstance(text_or_value, str):
        text_or_value = text_or_value.tolist()  # numpy array
    rows = _value_rows(text_or_value)
    if rows is not None:
        return rows
    if isinstance(text_or_value, numbers.Real) and not isinstance(text_or_value, bool):
        return [[text_or_value]]
    if not isinstance(text_or_value, str):
        raise MatrixParseError([_error(None, None, f"expected a list or text, got {type(text_or_value).__name__}")])
    if len(text_or_value) > MAX_MATRIX_CELLS * 20:
        raise MatrixParseError([_error(None, None, "the answer is too long")])
    if text_or_value.strip().startswith("["):
        try:
            rows = _value_rows(json.loads(text_or_value))
        except (json.JSONDecodeError, RecursionError):
            rows = None
        if rows is not None:
            return rows
    return _text_rows(text_or_value)


def _parse_cells(rows: list[list[Any]]) -> tuple[list[list[float]], list[CellError]]:
    errors: list[CellError] = []
    values: list[list[float]] = []
    if sum(len(r) for r in rows) > MAX_MATRIX_CELLS:
        return [], [_error(None, None, f"too many entries (at most {MAX_MATRIX_CELLS})")]
    for i, row in enumerate(rows):
        parsed: list[float] = []
        for j, cell in enumerate(row):
            if isinstance(cell, list | tuple | dict):
                errors.append(_error(i, j, "expected a number, found a nested list"))
                parsed.append(math.nan)
                continue
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                errors.append(_error(i, j, "empty"))
                parsed.append(math.nan)
                continue
            try:
                parsed.append(parse_number(cell))
            except ParseError as exc:
                errors.append(_error(i, j, exc.message))
                parsed.append(math.nan)
        values.append(parsed)
    return values, errors


def _shape_errors(values: list[list[float]], rows: int, cols: int) -> list[CellError]:
    errors: list[CellError] = []
    if len(values) != rows:
        errors.append(_error(None, None, f"expected {rows} row{'s' * (rows != 1)}, got {len(values)}"))
    for i, row in enumerate(values[:rows]):
        if len(row) != cols:
            errors.append(_error(i, None, f"expected {cols} entr{'ies' if cols != 1 else 'y'}, got {len(row)}"))
    return errors


def parse_matrix(text_or_value: Any, shape: Sequence[int] | None = None) -> list[list[float]]:
    """Read a matrix from text or a (nested) list; check ``shape = (rows, cols)`` when given.

    Returns a list of rows of floats. Raises ``MatrixParseError`` listing every bad cell
    (empty, unparseable, non-finite) and every shape problem, each with its row and column.
    """
    rows = _raw_rows(text_or_value)
    values, errors = _parse_cells(rows)
    if not values and not errors:
        errors.append(_error(None, None, "empty"))
    if shape is not None and not errors:
        errors = _shape_errors(values, int(shape[0]), int(shape[1]))
    elif shape is None and values and len({len(r) for r in values}) > 1:
        errors.append(_error(None, None, "rows have different lengths"))
    if errors:
        raise MatrixParseError(errors)
    return values


def parse_vector(text_or_value: Any, length: int | None = None) -> list[float]:
    """Read a vector: one row of text, a flat list, or a single row/column of a matrix.

    Errors use ``row=None`` and ``col`` = the 0-based entry index.
    """
    rows = _raw_rows(text_or_value)
    if len(rows) == 1:
        cells = rows[0]
    elif all(len(r) == 1 for r in rows):  # a column typed one entry per line
        cells = [r[0] for r in rows]
    else:
        raise MatrixParseError([_error(None, None, "expected a single row or column")])
    values, errors = _parse_cells([cells])
    errors = [CellError(None, e.col, e.message.replace("row 1, column", "entry")) for e in errors]
    if not cells and not errors:
        errors.append(_error(None, None, "empty"))
    if length is not None and not errors and len(cells) != length:
        errors.append(_error(None, None, f"expected {length} entries, got {len(cells)}"))
    if errors:
        raise MatrixParseError(errors)
    return values[0]
