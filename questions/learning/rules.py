"""Learning's pure rules: FSRS ratings from a grade, expected times, hint rungs and key masking,
mastery from a card, mock-interview presets and clocks."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from django.utils import timezone

from questions.catalogue.theory import wrong_choices
from questions.errors import ServiceError
from questions.formatting import format_number
from questions.keyed import keyed_seed
from questions.learning.models import MockInterview
from questions.learning.spacing import fsrs
from questions.practice.models import PracticeItem, Purpose

# One scheduler for everybody, with FSRS's default parameters and 90 % desired retention.
SCHEDULER = fsrs.Scheduler()


RATED_PURPOSES = (Purpose.PRACTICE, Purpose.REVIEW, Purpose.MOCK)


RIGHT_SCORE = 1.0 - 1e-9  # a score of 1, float noise aside


PASS_SCORE = 0.5  # from here up a partly right answer is Hard, below it Again


# Stability (days) at which a card counts as fully known. FSRS starts a card answered Easy at
# about 16 days, Good at about 3: one lucky answer is not mastery, a few spaced ones are.
MATURE_DAYS = 60.0


# Expected seconds for a theory question, by type (see the module docstring).
THEORY_SECONDS = {
    "true_false": 20,
    "single_choice": 30,
    "multiple_response": 45,
    "numeric": 60,
    "short_answer": 60,
    "matching": 60,
    "ordering": 60,
}


NUMERIC_READ_SECONDS = 30


NUMERIC_PART_SECONDS = 45


NUMERIC_CELL_SECONDS = 15


CODE_SECONDS = 10 * 60  # a code exercise: read, write a dozen lines, run the examples


def expected_seconds(item: PracticeItem) -> float:
    """How long a confident learner needs for this item; answering within it counts as fast."""
    if item.is_code:
        return CODE_SECONDS
    if item.is_numeric:
        parts = item.variant.data["parts"]
        cells = sum(math.prod(p.get("shape") or []) for p in parts)
        return NUMERIC_READ_SECONDS + NUMERIC_PART_SECONDS * len(parts) + NUMERIC_CELL_SECONDS * cells
    return THEORY_SECONDS.get(item.question_version.data["type"], 60)


def rating_rules() -> dict[str, int]:
    """The numbers behind the rating rules, for the page that explains them."""
    return {
        "pass_percent": round(100 * PASS_SCORE),
        "theory_fastest": min(THEORY_SECONDS.values()),
        "theory_slowest": max(THEORY_SECONDS.values()),
        "numeric_read": NUMERIC_READ_SECONDS,
        "numeric_part": NUMERIC_PART_SECONDS,
        "numeric_cell": NUMERIC_CELL_SECONDS,
        "code_minutes": CODE_SECONDS // 60,
    }


def rating_for(
    *, score: float, hints_used: int, retry: bool, seconds_taken: float, expected: float
) -> fsrs.Rating:
    """The FSRS rating a grade earns (rules in the module docstring)."""
    if score < PASS_SCORE:
        return fsrs.Rating.Again
    if score < RIGHT_SCORE or hints_used > 0 or retry:
        return fsrs.Rating.Hard
    if seconds_taken <= expected:
        return fsrs.Rating.Easy
    return fsrs.Rating.Good


def card_subject(item: PracticeItem) -> dict[str, Any]:
    if item.is_numeric:
        return {"kind": item.variant.kind}
    return {"question_id": item.question_version.question_id}


@dataclass(frozen=True)
class Hint:
    rung: int
    title: str
    text: str  # Markdown with $LaTeX$

    def to_dict(self) -> dict[str, Any]:
        return {"rung": self.rung, "title": self.title, "text": self.text}


def hint_rungs(item: PracticeItem) -> list[Hint]:
    """Every rung of the item's hint ladder, easiest first. None of them gives the answer away.

    Theory: the question's own hints; then, for choice questions with at least two wrong
    choices, one wrong choice struck out with its feedback; then where to read (the source).
    Numeric: the worked steps' titles and texts, one step a rung, with every number of the key
    or of the steps' values masked (`mask_key_numbers`); then a last rung with one intermediate
    value of this very problem, with the learner's numbers (`value_hint`): the first row of the
    first value the steps compute, never the final answer.
    Code exercises have no ladder: their examples are the help (and "Run examples").
    """
    if item.is_code:
        return []
    if item.is_numeric:
        data = item.variant.data
        secrets_ = key_numbers(data)
        rungs = [
            Hint(i + 1, f"Step {i + 1}: {step['title']}", mask_key_numbers(step.get("text", ""), secrets_))
            for i, step in enumerate(data.get("steps") or [])
        ]
        value = value_hint(data)
        if value is not None:
            rungs.append(Hint(len(rungs) + 1, VALUE_HINT_TITLE, value))
        return rungs
    data = item.question_version.data
    texts: list[tuple[str, str]] = [
        (f"Hint {i + 1}", hint) for i, hint in enumerate(data.get("hints") or [])
    ]
    if data["type"] in ("single_choice", "multiple_response"):
        wrong = [data["choices"][i] for i in wrong_choices(data)]
        if len(wrong) >= 2:
            # Which wrong choice is struck is fixed per item, so a reload shows the same one.
            struck = random.Random(keyed_seed("hint-strike", item.id)).choice(wrong)
            feedback = struck.get("feedback") or ""
            texts.append(("Not this one", f"Rule out: {struck['text']}\n\n{feedback}".strip()))
    elif data["type"] == "matching" and data.get("distractors"):
        distractor = random.Random(keyed_seed("hint-distractor", item.id)).choice(data["distractors"])
        texts.append(("Not this one", f"“{distractor}” matches none of the items."))
    texts.append(("Where to read", f"Read: {data['source']}"))
    return [Hint(i + 1, title, text) for i, (title, text) in enumerate(texts)]


VALUE_HINT_TITLE = "A number of this problem"


def value_hint(data: dict[str, Any]) -> str | None:
    """One intermediate value of this variant, to check the learner's own working against: the
    first value the worked steps compute (in the order each step's text names them: stored JSON
    may not keep it) that is none of the answers, else the first that is not the final answer;
    its first row when it is a matrix. None when the steps compute nothing else."""
    parts = [p["name"] for p in data.get("parts") or []]
    answers = [data["answer"].get(name) for name in parts]
    named = [(name, step["values"][name]) for step in data.get("steps") or [] for name in _mentioned(step)]
    usable = [(n, v) for n, v in named if _numeric(v) and (not answers or v != answers[-1])]
    chosen = next(((n, v) for n, v in usable if v not in answers), usable[0] if usable else None)
    if chosen is None:
        return None
    name, value = chosen
    if isinstance(value, list) and value and isinstance(value[0], list):
        return f"The first row of {_symbol(name)} in this problem: {_row(value[0])}."
    shown = _row(value) if isinstance(value, list) else _number(value)
    return f"{_symbol(name)} in this problem: {shown}."


def _mentioned(step: dict[str, Any]) -> list[str]:
    """A step's value names in the order its text first mentions them (unmentioned ones last)."""
    text = step.get("text", "")
    return sorted(step.get("values") or {}, key=lambda n: (text.find(n) % (len(text) + 1), n))


def _numeric(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_numeric(v) for v in value)
    if isinstance(value, str):  # an exact value ("1/3")
        try:
            Fraction(value.replace(",", ""))
        except (ValueError, ZeroDivisionError):
            return False
        return True
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: Any) -> str:
    return value if isinstance(value, str) else format_number(value)


def _row(values: list[Any]) -> str:
    return "(" + ", ".join(_number(v) for v in values) + ")"


def _symbol(name: str) -> str:
    """A value's name as the steps write it: a symbol as math (``d_head`` as $d_{head}$), a
    worded name as words."""
    symbol = re.fullmatch(r"([A-Za-z]{1,3})(?:_([A-Za-z]{1,5}))?(\^T)?", name)
    if symbol:
        base, sub, transpose = symbol.groups()
        return f"${base}{'_{' + sub + '}' if sub else ''}{'^T' if transpose else ''}$"
    return f"“{name.replace('_', ' ')}”"


_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


_AFTER_EQUALS = re.compile(r"(?:=|\\approx)\s*-?\s*$")


SMALL_INTEGER = 10  # 0..10 appear in every method ("sums to 1", "divide by 2"): kept unless "= n"


def key_numbers(data: dict[str, Any]) -> list[float]:
    """Magnitudes of every number of a variant's key and of its steps' values."""
    found: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            if math.isfinite(value):
                found.append(abs(float(value)))
        elif isinstance(value, str):
            try:
                found.append(abs(float(Fraction(value.replace(",", "")))))
            except (ValueError, ZeroDivisionError):
                return
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(data.get("answer"))
    for step in data.get("steps") or []:
        walk(step.get("values"))
    return found


def number_leaks(number: float, after_equals: bool, secrets_: list[float]) -> bool:
    """Whether a number written in a hint would tell part of the key or of a step's values."""
    if number.is_integer() and number <= SMALL_INTEGER and not after_equals:
        return False
    return any(abs(number - s) <= max(1e-9, 0.005 * s) for s in secrets_)


def mask_key_numbers(text: str, secrets_: list[float]) -> str:
    """The text with every number that would tell the key (or a step's value) replaced by `?`."""

    def replace(match: re.Match) -> str:
        number = float(match.group().replace(",", ""))
        after_equals = bool(_AFTER_EQUALS.search(text[: match.start()]))
        return "?" if number_leaks(number, after_equals, secrets_) else match.group()

    return _NUMBER.sub(replace, text)


@dataclass(frozen=True)
class HintLadder:
    revealed: list[Hint]
    total: int

    @property
    def next_rung(self) -> int | None:
        return len(self.revealed) + 1 if len(self.revealed) < self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "revealed": len(self.revealed),
            "total": self.total,
            "next_rung": self.next_rung,
            "hints": [h.to_dict() for h in self.revealed],
        }


def hint_ladder(item: PracticeItem) -> HintLadder:
    """The rungs the learner has opened so far, and how many there are."""
    rungs = hint_rungs(item)
    return HintLadder(revealed=rungs[: item.hints_revealed], total=len(rungs))


# A subject's share of mastery by the rating of its last answer: right (Good, Easy) counts fully,
# right with help or partly right (Hard) half, wrong (Again) nothing.
RATING_MASTERY = {int(fsrs.Rating.Again): 0.0, int(fsrs.Rating.Hard): 0.5, int(fsrs.Rating.Good): 1.0,
                  int(fsrs.Rating.Easy): 1.0}


def answer_mastery(last_rating: int | None) -> float:
    """One card's share of mastery now: by its last answer (``RATING_MASTERY``), 0 unanswered."""
    return RATING_MASTERY.get(last_rating, 0.0) if last_rating is not None else 0.0


def card_mastery(*, fsrs_card: dict[str, Any], now: datetime) -> float:
    """One card's share of long-term mastery: recall probability now times stability / 60 days
    (at most 1)."""
    card = fsrs.Card.from_dict(fsrs_card)
    if card.stability is None or card.last_review is None:
        return 0.0
    recall = SCHEDULER.get_card_retrievability(card, current_datetime=now)
    return recall * min(1.0, card.stability / MATURE_DAYS)


# The outcome of one question, as the review groups them; missed ones sort first.
RIGHT, PARTIAL, WRONG, UNREADABLE, UNANSWERED, PENDING = (
    "right", "partial", "wrong", "unreadable", "unanswered", "pending",
)

NUMERIC_DIFFICULTY = "medium"  # a mock interview's problems (topic practice: the learner's starting level)


@dataclass(frozen=True)
class Preset:
    key: str
    questions: int
    minutes: int

    @property
    def seconds_per_question(self) -> int:
        return self.minutes * 60 // self.questions

    @property
    def label(self) -> str:
        return f"{self.questions} questions in {self.minutes} minutes"


PRESETS = (Preset("quick", 3, 6), Preset("short", 5, 10), Preset("standard", 10, 20))


DEFAULT_PRESET = "short"


def preset_for(key: str) -> Preset:
    for preset in PRESETS:
        if preset.key == key:
            return preset
    choices = ", ".join(p.label for p in PRESETS)
    if not key:
        raise ServiceError(f"Choose a length: {choices}.")
    raise ServiceError(f"Unknown length {key!r}: choose one of {choices}.")


def seconds_left(mock: MockInterview) -> int:
    if mock.finished_at is not None:
        return 0
    return max(0, int((mock.deadline - timezone.now()).total_seconds()))


def is_time_up(mock: MockInterview) -> bool:
    """Finished by the clock rather than by the learner."""
    if mock.finished_at is not None:
        return mock.finished_at >= mock.deadline
    return timezone.now() >= mock.deadline


_REVIEW_ORDER = {WRONG: 0, UNANSWERED: 0, UNREADABLE: 0, PARTIAL: 1, PENDING: 2, RIGHT: 3}



# --- Practice sessions with an arc ------------------------------------------------------------------

RUN_LENGTHS = (5, 10, 20)
RUN_DEFAULT_LENGTH = 10


def run_length(value: str | None) -> int:
    """A session's length from a form (the default when left out); ServiceError for another."""
    if value in (None, ""):
        return RUN_DEFAULT_LENGTH
    if value not in {str(n) for n in RUN_LENGTHS}:
        raise ServiceError(f"Choose a session of {', '.join(map(str, RUN_LENGTHS))} questions.")
    return int(value)


def run_step(run: dict[str, Any]) -> tuple[str, int | None]:
    """What a session serves next: ("new", None) while fewer than its length were served, then
    ("skipped", id) for each question skipped (in the order skipped), then ("done", None)."""
    if len(run.get("served", [])) < run.get("length", RUN_DEFAULT_LENGTH):
        return "new", None
    if run.get("skipped"):
        return "skipped", run["skipped"][0]
    return "done", None


def run_position(run: dict[str, Any], item_id: int) -> int | None:
    """The question's number in its session (1-based), or None if it is not one of its questions.
    A session drawn in advance (the placement) numbers its questions in its own `order`."""
    served = run.get("order") or run.get("served", [])
    return served.index(item_id) + 1 if item_id in served else None


def run_next_drawn(run: dict[str, Any]) -> int | None:
    """A session drawn in advance (the placement): its first question not served yet."""
    served = set(run.get("served", []))
    return next((item_id for item_id in run.get("order", []) if item_id not in served), None)


# --- The placement: a first visit with a path -------------------------------------------------

PLACEMENT_LENGTH = 6  # questions, one topic each: about five minutes
PLACEMENT_MAX_ITEMS = 8  # what a start may ever draw, whatever the length above says
assert 5 <= PLACEMENT_LENGTH <= PLACEMENT_MAX_ITEMS

LEVELS = ("easy", "medium", "hard")  # the catalogue's difficulties, easiest first
START_LEVEL = "easy"  # a topic's starting difficulty before (or without) the placement
PLACEMENT_LEVELS = ("easy", "medium")  # a placement asks no hard question

# Each placement slot's question: theory or a numeric problem, at easy or medium, so the six
# mix both forms and both levels (a topic that cannot serve the form takes the other one).
PLACEMENT_SLOTS = (
    ("theory", "easy"), ("numeric", "easy"), ("theory", "medium"),
    ("numeric", "medium"), ("theory", "easy"), ("theory", "medium"),
)
assert len(PLACEMENT_SLOTS) == PLACEMENT_LENGTH

PLACEMENT_RULE = (
    "A question answered right sets its topic one level above the question's (easy to medium, "
    "medium to hard), half right or more keeps the question's level, and less, a skip or a topic "
    "the placement did not ask about starts at easy (a hint does not lower the level found)."
)


def placement_topics(slugs: list[str], count: int = PLACEMENT_LENGTH) -> list[str]:
    """`count` distinct topics spread evenly over the bank's order (first and last included), so
    the placement samples the basics and the advanced topics alike; all of them when fewer."""
    if len(slugs) <= count:
        return list(slugs)
    if count == 1:
        return [slugs[0]]
    return [slugs[round(i * (len(slugs) - 1) / (count - 1))] for i in range(count)]


@dataclass(frozen=True)
class PlacementSlot:
    topic: str
    form: str  # "theory" or "numeric"
    difficulty: str  # "easy" or "medium"
    kind: str = ""  # the problem kind of a numeric slot


def placement_plan(
    offers: list[tuple[str, set[str], list[str]]], rng: random.Random
) -> list[PlacementSlot]:
    """The placement's questions: one per offered topic, in order, slot `i` taking the form and
    level of `PLACEMENT_SLOTS[i]`. An offer is (topic, the levels it has theory questions at,
    its numeric problem kinds). A topic without the slot's form takes the other one; a theory
    slot without a question at its level takes the other placement level; a topic that can serve
    neither is left out."""
    plan: list[PlacementSlot] = []
    for (topic, theory_levels, kinds), (form, level) in zip(offers, PLACEMENT_SLOTS, strict=False):
        other = [lv for lv in PLACEMENT_LEVELS if lv != level]
        usable = [lv for lv in (level, *other) if lv in theory_levels]
        if kinds and (form == "numeric" or not usable):
            plan.append(PlacementSlot(topic, "numeric", level, rng.choice(kinds)))
        elif usable:
            plan.append(PlacementSlot(topic, "theory", usable[0]))
    return plan


def starting_level(*, asked: str, score: float | None) -> str:
    """A topic's starting difficulty from its placement question (`PLACEMENT_RULE`): `asked` is
    the question's difficulty, `score` its graded score (None: skipped, or not graded yet)."""
    if score is None or score < PASS_SCORE:
        return START_LEVEL
    if score < RIGHT_SCORE:
        return asked
    return LEVELS[min(LEVELS.index(asked) + 1, len(LEVELS) - 1)]


def placement_offer(*, answered_before: bool, started: bool, finished: bool, skipped: bool) -> str | None:
    """What the home's Continue says of the placement: "resume" while one is open (nothing else
    first: its questions are the learner's path in), "start" for a learner with no answer yet
    who neither took nor skipped it, else None (the home's lower part still links to it)."""
    if started and not finished and not skipped:
        return "resume"
    if not (answered_before or started or skipped):
        return "start"
    return None
