"""How numbers and times are written for people: one copy of each rule, used by the domain
(feedback, CSV) and by the pages and the API (`quizsite`).

* `format_number`: a value of a problem or an answer (result pages, worked solutions).
* `plain_number`: a mark or a count as a person writes it (4, 2.5, 1,000,000; never 1e+06).
* `key_number`: a theory question's expected number in feedback (exact integers, 6 significant
  digits otherwise, so a tight tolerance is never hidden by rounding).
* `percent`, `clock`: a fraction as a percentage, seconds as a countdown.

The interchange formats write numbers to be read back exactly (`interchange.common`), and the
heatmap prints cells to a fixed width: those are encodings, not these display rules.
"""

from __future__ import annotations

import math
from typing import Any


def format_number(value: Any) -> str:
    """A number as the result pages print it: integers exactly, fractions as typed, floats to 4
    places (4 significant digits below 0.001, scientific notation only below 1e-6 or from 1e7)."""
    if isinstance(value, str):
        return {"-inf": "\u2212\u221e", "inf": "\u221e"}.get(value, value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)
    if not math.isfinite(value):
        return "\u2212\u221e" if value < 0 else ("\u221e" if value > 0 else "NaN")
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) < 1e-6 or abs(value) >= 1e7:
        return f"{value:.3e}"
    if abs(value) < 1e-3:  # 4 significant digits, written out: 0.0003 stays 0.0003
        return f"{value:.{3 - math.floor(math.log10(abs(value)))}f}".rstrip("0")
    return f"{value:.4f}".rstrip("0").rstrip(".")


def plain_number(value: float, places: int = 4) -> str:
    """A mark as a person writes it: 4, 2.5, 1,000,000 (never 1e+06), at most `places` decimals."""
    text = f"{value:,.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def key_number(value: float) -> str:
    """An expected answer in feedback: 12,288 exactly; 0.707107 (6 significant digits)."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.6g}"


def marks(value: float | None) -> str:
    """Points on a page ('' when not known yet)."""
    return "" if value is None else plain_number(value)


def percent(fraction: float | None) -> str:
    """A fraction in [0, 1] as a percentage with one decimal ('' when not known)."""
    return "" if fraction is None else f"{100 * fraction:.1f}"


def clock(seconds: int) -> str:
    """Seconds as h:mm:ss, or m:ss under an hour: how every countdown (quiz, mock) shows time."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
