r"""The precision a prompt states for an answer, and the tolerance that follows from it.

A prompt says "at least 3 decimal places", "at least 4 significant digits" or "the exact
number"; ``Precision`` is that sentence as data. An answer given to the stated precision is
the key rounded to it, so it may be off by half a unit in the last required digit:

$$\text{places}(k) = \max\bigl(\text{decimals},\ \text{significant} - 1 - \lfloor \log_{10} |k| \rfloor\bigr),
  \qquad \text{half unit}(k) = \tfrac12\,10^{-\text{places}(k)}$$

(the finer of the two requirements wins when a prompt states both). Each kind declares what
its prompt states with ``stated_precision(variant) -> {part: Precision}``; the vetting in
``generation.draw_verified`` and the sweep in ``verify`` round keys and wrong answers with it,
so a rounded right answer always scores 1 and a rounded wrong one is still named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from attention_engine.variant import Tolerance


@dataclass(frozen=True)
class Precision:
    """``significant`` digits and/or ``decimals`` places (the finer wins); neither = exact."""

    significant: int | None = None
    decimals: int | None = None

    @property
    def exact(self) -> bool:
        return self.significant is None and self.decimals is None

    def places(self, value: float) -> int | None:
        """Decimal places a number of this size needs (negative: tens, hundreds ...); None = exact."""
        if self.exact:
            return None
        candidates = []
        if self.decimals is not None:
            candidates.append(self.decimals)
        if self.significant is not None:
            magnitude = math.floor(math.log10(abs(value))) if value else 0
            candidates.append(self.significant - 1 - magnitude)
        return max(candidates)

    def half_unit(self, value: float) -> float:
        """Half a unit in the last required digit of ``value`` (0 when exact)."""
        places = self.places(value)
        return 0.0 if places is None else 0.5 * 10.0 ** (-places)

    def tolerance(self, value: float) -> Tolerance:
        """The tolerance a scalar key gets when the prompt states this precision.

        Exactly the half unit: a key whose rounding lands on the boundary (up to the last bit of
        a float subtraction) fails the vetting of the rounded key and is redrawn.
        """
        return Tolerance(rel=0.0, abs=self.half_unit(value))

    def round(self, value: Any) -> np.ndarray:
        """``value`` (scalar, vector or matrix) rounded cell by cell as the prompt asks."""
        array = np.asarray(value, dtype=np.float64)
        if self.exact:
            return array
        flat = [round(float(v), self.places(float(v))) for v in array.ravel()]
        return np.array(flat, dtype=np.float64).reshape(array.shape)


EXACT_NUMBER = Precision()


def decimals(n: int) -> Precision:
    """"Give at least ``n`` decimal places"."""
    return Precision(decimals=n)


def significant(n: int) -> Precision:
    """"Give at least ``n`` significant digits"."""
    return Precision(significant=n)
