"""The data a problem kind produces: ``Variant`` (a generated problem) and ``Grade`` (a result).

Both are plain dataclasses with ``to_dict()``; ``Variant.from_dict`` reads back what
``to_dict`` wrote, so a variant stored as JSON can be graded later. Everything numeric is
converted by ``to_jsonable`` so that the same variant always serialises to the same bytes.

Also here: the per-variant random generator (``make_rng``) and the difficulty names, so every
kind draws its numbers the same way.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from attention_engine import ENGINE_VERSION

DIFFICULTIES = ("easy", "medium", "hard")
# Agreement threshold between verification routes (float64 vs float64, small matrices).
ROUTE_TOLERANCE = 1e-9
# max_abs_diff is recorded as a power-of-ten upper bound, never below this, so the JSON does
# not depend on which device (and so which last bits) the torch route used.
DIFF_FLOOR = 1e-12


class GenerationError(RuntimeError):
    """A kind could not draw an acceptable, verified variant for this seed."""


class VerificationError(RuntimeError):
    """Two independent routes disagreed about a key; the variant must never be shown."""


def check_difficulty(difficulty: str) -> str:
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"unknown difficulty {difficulty!r}; expected one of {', '.join(DIFFICULTIES)}")
    return difficulty


def check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def make_rng(kind: str, seed: int, difficulty: str) -> np.random.Generator:
    """An explicit PCG64 generator for one (kind, seed, difficulty); never global state.

    The kind name enters through a CRC32 (stable across processes, unlike ``hash``) so two kinds
    with the same seed draw unrelated numbers.
    """
    entropy = [check_seed(seed), zlib.crc32(kind.encode()), DIFFICULTIES.index(check_difficulty(difficulty))]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def to_jsonable(value: Any) -> Any:
    """Convert numpy arrays/scalars, tuples and Fractions into JSON values, deterministically.

    Floats stay at full precision (``json`` writes the shortest round-tripping repr); ``-0.0``
    becomes ``0.0`` because its sign is a device accident, not information. ``Fraction`` becomes
    the string ``"p/q"`` (``"p"`` when whole).
    """
    kind = type(value)
    if kind is str or kind is int:  # the commonest leaves, as the general rules below give them
        return value
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(f"non-finite number {value!r} cannot go into a variant")
        return 0.0 if value == 0 else value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biu" or (value.dtype.kind == "f" and np.isfinite(value).all()):
            # The same values as converting cell by cell, converted by numpy (bulk generation
            # writes thousands of these); ``+ 0.0`` turns -0.0 into 0.0.
            return (value + 0.0 if value.dtype.kind == "f" else value).tolist()
        return to_jsonable(value.tolist())
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"non-finite number {number!r} cannot go into a variant")
        return 0.0 if number == 0 else number
    return value


def quantised_diff(diff: float) -> float:
    """Round a route difference up to a power of ten (at least ``DIFF_FLOOR``)."""
    if diff <= DIFF_FLOOR:
        return DIFF_FLOOR
    return float(10.0 ** math.ceil(math.log10(diff)))


@dataclass(frozen=True)
class Tolerance:
    """A typed value ``g`` matches the key ``k`` when ``|g - k| <= abs + rel * |k|``."""

    rel: float = 1e-2
    abs: float = 5e-3

    def to_dict(self) -> dict[str, float]:
        return {"rel": self.rel, "abs": self.abs}


EXACT = Tolerance(rel=0.0, abs=1e-9)


@dataclass(frozen=True)
class Part:
    """One answer box. ``shape`` is ``()`` for a scalar, ``(n,)`` vector, ``(r, c)`` matrix.

    ``weight`` is the part's share of the variant's score (a weighted mean); the final output of
    a multi-step problem weighs more than its intermediate steps. It is always serialised (a
    page shows it); variants stored before it existed load with weight 1.
    """

    name: str
    label: str
    shape: tuple[int, ...] = ()
    step: int = 1
    tolerance: Tolerance = field(default_factory=Tolerance)
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "shape": list(self.shape),
            "step": self.step,
            "tolerance": self.tolerance.to_dict(),
            "weight": self.weight,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Part:
        return cls(
            name=data["name"],
            label=data["label"],
            shape=tuple(int(n) for n in data["shape"]),
            step=int(data["step"]),
            tolerance=Tolerance(**data["tolerance"]),
            weight=float(data.get("weight", 1.0)),
        )


@dataclass(frozen=True)
class Step:
    """One step of the worked solution, with every intermediate value it shows."""

    title: str
    text: str
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "text": self.text, "values": to_jsonable(self.values)}


@dataclass(frozen=True)
class Verification:
    """How the key was checked: the routes used and how far apart they were."""

    routes: tuple[str, ...]
    max_abs_diff: float
    agreed: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"routes": list(self.routes), "max_abs_diff": self.max_abs_diff, "agreed": self.agreed}


def max_abs_diff(a: Any, b: Any) -> float:
    """Largest elementwise difference between two routes; inf when shapes or NaNs disagree."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return math.inf
    both = ~np.isnan(a)
    return float(np.max(np.abs(a[both] - b[both]), initial=0.0))


def agree(routes: tuple[str, ...], diffs: list[float], tolerance: float = ROUTE_TOLERANCE) -> Verification:
    """Build the verification record from per-key differences; raise if any exceeds tolerance.

    Raising (instead of recording ``agreed=False``) is what guarantees a disagreeing variant is
    never returned: ``generate`` either redraws or fails loudly.
    """
    worst = max(diffs) if diffs else 0.0
    if not math.isfinite(worst) or worst > tolerance:
        raise VerificationError(f"routes {routes} disagree: max |difference| = {worst!r}")
    return Verification(routes=tuple(routes), max_abs_diff=quantised_diff(worst), agreed=True)


@dataclass(frozen=True)
class Variant:
    """A generated problem: inputs, prompt, answer boxes, key, worked steps, verification."""

    kind: str
    seed: int
    difficulty: str
    params: dict[str, Any]
    prompt: str
    parts: tuple[Part, ...]
    answer: dict[str, Any]
    steps: tuple[Step, ...]
    verification: Verification
    engine_version: str = ENGINE_VERSION

    def part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)

    @functools.cached_property
    def keys(self) -> dict[str, np.ndarray]:
        """Every part's key as a float64 array, converted once (a variant is immutable)."""
        return {name: as_array(value) for name, value in self.answer.items()}

    def key(self, name: str) -> np.ndarray:
        """The key of one part as a float64 array (exact fraction strings converted)."""
        return self.keys[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seed": self.seed,
            "difficulty": self.difficulty,
            "engine_version": self.engine_version,
            "params": to_jsonable(self.params),
            "prompt": self.prompt,
            "parts": [p.to_dict() for p in self.parts],
            "answer": to_jsonable(self.answer),
            "steps": [s.to_dict() for s in self.steps],
            "verification": self.verification.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Variant:
        missing = {"kind", "seed", "difficulty", "params", "prompt", "parts", "answer"} - set(data)
        if missing:
            raise ValueError(f"not a full variant (missing {', '.join(sorted(missing))}); grading needs the key")
        verification = data.get("verification") or {"routes": [], "max_abs_diff": 0.0, "agreed": True}
        return cls(
            kind=data["kind"],
            seed=int(data["seed"]),
            difficulty=data["difficulty"],
            params=data["params"],
            prompt=data["prompt"],
            parts=tuple(Part.from_dict(p) for p in data["parts"]),
            answer=data["answer"],
            steps=tuple(Step(s["title"], s["text"], s.get("values", {})) for s in data.get("steps", [])),
            verification=Verification(
                routes=tuple(verification["routes"]),
                max_abs_diff=float(verification["max_abs_diff"]),
                agreed=bool(verification["agreed"]),
            ),
            engine_version=data.get("engine_version", ENGINE_VERSION),
        )


def as_array(value: Any) -> np.ndarray:
    """A key or parameter as float64; ``"3/7"`` strings are exact fractions."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        pass  # strings such as "3/7" somewhere inside: convert cell by cell
    if isinstance(value, str):
        return np.array(float(Fraction(value)))
    return np.array([as_array(v) for v in value], dtype=np.float64)


@dataclass
class PartResult:
    """How one part was graded. ``cells`` mirrors the part's shape (``None`` for scalars)."""

    score: float
    correct: bool
    cells: list[Any] | None
    expected_shape: list[int]
    message: str
    # Graded against the learner's own earlier answer (error carried forward), not the key.
    carried_forward: bool = False
    # The part's weight in the variant's score (``Part.weight``).
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "weight": self.weight,
            "correct": self.correct,
            "cells": self.cells,
            "expected_shape": self.expected_shape,
            "message": self.message,
            "carried_forward": self.carried_forward,
        }


@dataclass(frozen=True)
class FormatError:
    """An answer that could not be read. ``row``/``col`` are 0-based, ``None`` = whole part."""

    part: str
    row: int | None
    col: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "row": self.row, "col": self.col, "message": self.message}


@dataclass
class Grade:
    """The result of grading one response to one variant."""

    score: float
    parts: dict[str, PartResult]
    feedback: str
    misconception: str | None = None
    misconception_message: str | None = None
    format_errors: list[FormatError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "parts": {name: r.to_dict() for name, r in self.parts.items()},
            "feedback": self.feedback,
            "misconception": self.misconception,
            "misconception_message": self.misconception_message,
            "format_errors": [e.to_dict() for e in self.format_errors],
        }
