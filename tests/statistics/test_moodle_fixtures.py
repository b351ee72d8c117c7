"""item_statistics against the expected numbers in Moodle's own quiz statistics tests.

The fixtures (see fixtures/README.md) give marks directly, so no question behaviour is
simulated: the marks go into item_statistics and every statistic Moodle's tests check is
compared with Moodle's expected value to the precision the fixture prints it, i.e. within half
a unit of its last decimal place. (That is tighter than Moodle's own tolerance of 1e-6 or 1e-5
relative; all values pass it.)
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from questions.courses.statistics import QuizStatistics, item_statistics

FIXTURES = Path(__file__).parent / "fixtures"


def read_csv(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, newline="") as f:
        return list(csv.DictReader(f))


def assert_matches_printed(actual: float | None, printed: str, scale: float = 1, what: str = ""):
    """Check ``actual * scale`` rounds to ``printed``: within half a unit of its last decimal.

    A relative 1e-12 is added only for binary floating point noise in ``actual * scale``.
    """
    assert actual is not None, f"{what}: expected {printed}, got None"
    exponent = Decimal(printed).as_tuple().exponent
    assert isinstance(exponent, int)
    half_unit = 0.5 * 10.0**exponent
    expected = float(printed)
    value = actual * scale
    assert abs(value - expected) <= half_unit + 1e-12 * abs(expected), (
        f"{what}: {value!r} does not round to {printed}"
    )


# --- Quiz 00: results00.csv (marks), qstats00.csv and quizstats00.csv (expected) -------------

QUIZ00_SLOTS = 7


@pytest.fixture(scope="module")
def quiz00() -> QuizStatistics:
    rows = read_csv("results00.csv")
    scores = [[float(r[f"slots.{slot}.mark"]) for slot in range(1, QUIZ00_SLOTS + 1)] for r in rows]
    # Every question in quiz 00 has maximum mark 1 (all marks lie in [0, 1] and quiz 00's
    # facility equals the mean mark in qstats00.csv, e.g. slot 1: 17.6 / 25 = 0.704).
    # Every attempt is a first attempt (firstattemptscount = allattemptscount = 25).
    return item_statistics(scores, [1.0] * QUIZ00_SLOTS, is_first_attempt=[True] * len(scores))


def test_quiz00_totals_are_the_fixture_sums(quiz00: QuizStatistics):
    # The fixture's own summarks column rounds attempt 21 to 4.33333; the rest are exact.
    # This pins down that the totals item_statistics builds are the ones Moodle used.
    rows = read_csv("results00.csv")
    assert quiz00.attempt_count == len(rows) == 25
    mean_of_printed = sum(float(r["summarks"]) for r in rows) / len(rows)
    assert quiz00.mean == pytest.approx(mean_of_printed, abs=1e-5)


# qstats00.csv column -> QuestionStatistics attribute. Moodle's "sd" is in marks (sd_marks;
# with max mark 1 it equals the fraction too), "othermarkvariance" is the rest-of-test variance.
QSTATS_FIELDS = {
    "facility": "facility",
    "sd": "sd_marks",
    "effectiveweight": "effective_weight",
    "covariance": "covariance",
    "markvariance": "mark_variance",
    "othermarkvariance": "rest_variance",
    "discriminationindex": "discrimination_index",
    "covariancemax": "covariance_max",
    "discriminativeefficiency": "discriminative_efficiency",
}


@pytest.mark.parametrize("row", read_csv("qstats00.csv"), ids=lambda r: f"slot{r['slot']}")
@pytest.mark.parametrize("column", sorted(QSTATS_FIELDS))
def test_quiz00_question_statistics(quiz00: QuizStatistics, row: dict[str, str], column: str):
    question = quiz00.questions[int(row["slot"]) - 1]
    assert question.s == 25
    actual = getattr(question, QSTATS_FIELDS[column])
    assert_matches_printed(actual, row[column], what=f"slot {row['slot']} {column}")


def test_quiz00_sd_fraction_is_sd_marks_over_max(quiz00: QuizStatistics):
    # Max mark 1, so Moodle's displayed SD% / 100 is the mark SD itself.
    for q in quiz00.questions:
        assert q.sd == q.sd_marks


# quizstats00.csv statname -> (attribute, scale). Moodle's cic and errorratio are percentages;
# cronbach_alpha and error_ratio are the fractions.
QUIZSTATS_FIELDS = {
    "median": ("median", 1),
    "firstattemptsavg": ("first_attempts_mean", 1),
    "allattemptsavg": ("all_attempts_mean", 1),
    "firstattemptscount": ("first_attempts_count", 1),
    "allattemptscount": ("all_attempts_count", 1),
    "standarddeviation": ("sd", 1),
    "skewness": ("skewness", 1),
    "kurtosis": ("kurtosis", 1),
    "cic": ("cronbach_alpha", 100),
    "errorratio": ("error_ratio", 100),
    "standarderror": ("standard_error", 1),
}


@pytest.mark.parametrize("row", read_csv("quizstats00.csv"), ids=lambda r: r["statname"])
def test_quiz00_quiz_statistics(quiz00: QuizStatistics, row: dict[str, str]):
    attribute, scale = QUIZSTATS_FIELDS[row["statname"]]
    assert_matches_printed(getattr(quiz00, attribute), row["value"], scale, row["statname"])


def test_quiz00_mean_is_all_attempts_mean(quiz00: QuizStatistics):
    assert quiz00.mean == quiz00.all_attempts_mean


# --- mdl_question_states.csv (marks) and qstats_question_states.csv (expected) --------------


def load_question_states() -> tuple[list[list[float]], list[float], list[float]]:
    """Build the score matrix from Moodle's step rows.

    As in Moodle's test (``get_latest_steps`` in statistics_test.php), a row for slot 1 starts
    a new attempt; the other rows of the attempt follow in no particular slot order. Returns
    the scores (attempt x slot, slots 1..20), the max marks, and each attempt's sumgrades.
    """
    attempts: list[dict[int, float]] = []
    max_marks: dict[int, float] = {}
    sumgrades: list[float] = []
    for r in read_csv("mdl_question_states.csv"):
        slot = int(r["slot"])
        if slot == 1:
            attempts.append({})
            sumgrades.append(float(r["sumgrades"]))
        attempts[-1][slot] = float(r["mark"])
        assert max_marks.setdefault(slot, float(r["maxmark"])) == float(r["maxmark"])
    slots = sorted(max_marks)
    assert slots == list(range(1, 21))
    scores = [[a[slot] for slot in slots] for a in attempts]
    return scores, [max_marks[slot] for slot in slots], sumgrades


@pytest.fixture(scope="module")
def question_states() -> QuizStatistics:
    scores, max_marks, _ = load_question_states()
    return item_statistics(scores, max_marks)


def test_question_states_sumgrades_are_the_sums_of_marks():
    # Moodle's test takes summarks from the sumgrades column; we recompute totals from the
    # marks, which is only the same input if they agree.
    scores, _, sumgrades = load_question_states()
    assert len(scores) == 22
    for row, total in zip(scores, sumgrades, strict=True):
        assert sum(row) == pytest.approx(total, abs=1e-9)


# column -> (attribute, scale), mirroring qstats_q_fields(field, values, multiplier) in the PHP.
STATES_FIELDS = {
    "facility_percent": ("facility", 100),
    "sd_millimarks": ("sd_marks", 1000),
    "effectiveweight": ("effective_weight", 1),
    "discriminationindex": ("discrimination_index", 1),
    "discriminativeefficiency": ("discriminative_efficiency", 1),
}


@pytest.mark.parametrize(
    "row", read_csv("qstats_question_states.csv"), ids=lambda r: f"slot{r['slot']}"
)
@pytest.mark.parametrize("column", sorted(STATES_FIELDS))
def test_question_states_statistics(
    question_states: QuizStatistics, row: dict[str, str], column: str
):
    slot = int(row["slot"])
    question = question_states.questions[slot - 1]
    attribute, scale = STATES_FIELDS[column]
    actual = getattr(question, attribute)
    expected = row[column]
    if expected == "":
        # Moodle's null. Slots 1-4 (everyone scored 0, max 1) have zero variance, so D and DE
        # are undefined; slots 5-7 have max mark 0, so facility is undefined. Moodle's test
        # compares null with assertEquals, which in PHP also accepts 0 for the SD of slots
        # 5-7: the mark SD is 0 there, and the SD as a fraction of the max mark is None.
        if column == "sd_millimarks":
            assert actual == 0
            assert question.sd is None
        else:
            assert actual is None, f"slot {slot} {column}: expected None, got {actual!r}"
    else:
        assert_matches_printed(actual, expected, scale, f"slot {slot} {column}")
