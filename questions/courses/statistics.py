"""Quiz item statistics (item analysis) computed the way Moodle's quiz statistics report does.

Pure Python, no Django and no database: give it a matrix of marks, get back facility,
standard deviation, discrimination index, discriminative efficiency and effective weight per
question, and the test statistics (mean, median, SD, skewness, kurtosis, Cronbach's alpha,
error ratio, standard error) for the whole quiz.

The formulas follow Moodle's "Quiz statistics calculations" developer documentation and its
implementation in ``question/classes/statistics/questions/calculator.php`` (per question) and
``mod/quiz/report/statistics/classes/calculator.php`` (per quiz). The test suite in
``tests/statistics`` checks them against the expected numbers in Moodle's own test fixtures.

Notation (Moodle's): for one question, over the S attempts that contain it,

* ``x_i``  the mark for the question in attempt i (0 <= x_i <= max mark),
* ``T_i``  the attempt's total mark (sum of its question marks),
* ``X_i = T_i - x_i`` the mark on the *rest of the test*,
* ``V(x) = sum (x_i - mean x)^2 / (S - 1)`` (sample variance, divisor S - 1),
* ``C(x, X) = sum (x_i - mean x)(X_i - mean X) / (S - 1)``.

Per question:

* facility ``F = mean(x) / max mark`` (Moodle stores the fraction, displays it ``* 100`` as %),
* SD ``sqrt(V(x))`` in marks; Moodle displays ``100 * SD / max mark`` as %, and ``sd`` here is
  that fraction ``SD / max mark`` (``sd_marks`` keeps the mark value),
* discrimination index ``D = 100 * C(x, X) / sqrt(V(x) V(X))`` -- the correlation with the
  rest of the test, as a percentage in [-100, 100],
* discriminative efficiency ``DE = 100 * C(x, X) / Cmax(x, X)`` where ``Cmax`` is the same
  covariance computed after sorting ``x`` and ``X`` independently in the same order (the
  largest covariance these marks could have), so ``DE <= 100``,
* effective weight ``EW = 100 * sqrt(C(x, T)) / sum_j sqrt(C(x_j, T))``, None for a question
  whose covariance with the total is negative.

Per quiz, over the S attempts with totals ``T_i``, ``d_i = T_i - mean T``:

* mean, median (average of the two middle totals when S is even), SD ``sqrt(sum d^2 / (S-1))``,
* ``m_k = sum d^k / S``, ``k2 = S m2 / (S - 1)``, ``k3 = S^2 m3 / ((S-1)(S-2))``,
  ``k4 = S^2 ((S+1) m4 - 3 (S-1) m2^2) / ((S-1)(S-2)(S-3))``,
  skewness ``k3 / k2^(3/2)``, kurtosis (excess) ``k4 / k2^2``,
* Cronbach's alpha ``(P / (P-1)) * (1 - sum_j V(x_j) / k2)`` for P questions. Moodle calls
  ``100 * alpha`` the coefficient of internal consistency (CIC) and shows it as a percentage;
  ``cronbach_alpha`` here is the fraction. It needs complete data (no None cells) and P > 1,
* error ratio ``ER = sqrt(1 - alpha)`` (Moodle shows ``100 * ER`` %) and
  standard error ``SE = ER * SD`` in marks.

Degenerate data never raises and never divides by zero: a figure that is undefined (one
attempt, a question or a rest-of-test with zero variance, a zero maximum mark) is ``None``,
which is what Moodle stores in those cases too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = ["QuestionStatistics", "QuizStatistics", "item_statistics"]

Mark = float | int | None


@dataclass(frozen=True)
class QuestionStatistics:
    """Statistics for one question (one column of the score matrix).

    Attributes:
        index: column number in the score matrix (0-based).
        max_mark: the question's maximum mark.
        s: number of attempts that contained the question (cells that are not None).
        mean_mark: average mark, in marks.
        facility: ``mean_mark / max_mark`` as a fraction in [0, 1] (Moodle shows it ``* 100`` %).
            None when there are no attempts or the maximum mark is 0.
        sd: standard deviation as a fraction of ``max_mark`` (Moodle shows it ``* 100`` %).
        sd_marks: standard deviation in marks, divisor S - 1.
        mark_variance: ``V(x)``, in marks squared.
        rest_variance: ``V(X)``, variance of the rest-of-test marks.
        covariance: ``C(x, X)``.
        covariance_max: ``Cmax(x, X)``, the covariance with both lists sorted.
        covariance_with_total: ``C(x, T)``, used for the effective weight.
        discrimination_index: ``100 * C(x, X) / sqrt(V(x) V(X))``.
        discriminative_efficiency: ``100 * C(x, X) / Cmax(x, X)``.
        effective_weight: ``100 * sqrt(C(x, T)) / sum_j sqrt(C(x_j, T))``, a percentage.
    """

    index: int
    max_mark: float
    s: int
    mean_mark: float | None
    facility: float | None
    sd: float | None
    sd_marks: float | None
    mark_variance: float | None
    rest_variance: float | None
    covariance: float | None
    covariance_max: float | None
    covariance_with_total: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    effective_weight: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the statistics as a plain JSON-friendly dict."""
        return asdict(self)


@dataclass(frozen=True)
class QuizStatistics:
    """Test statistics for the whole quiz and per-question statistics.

    Quiz-level figures (``mean``, ``median``, ``sd``, ``standard_error``) are in marks, like
    Moodle stores them; Moodle displays them as a percentage of ``max_total``.

    Attributes:
        attempt_count: attempts the statistics were computed from (S).
        question_count: number of questions (P).
        max_total: sum of the maximum marks.
        mean: average total mark.
        median: median total mark.
        sd: standard deviation of the totals (divisor S - 1).
        skewness: sample skewness ``k3 / k2^(3/2)``; needs S >= 3.
        kurtosis: sample excess kurtosis ``k4 / k2^2``; needs S >= 4.
        cronbach_alpha: coefficient of internal consistency as a fraction (Moodle's CIC / 100);
            None unless S >= 2, P >= 2, the totals vary and no cell is None.
        error_ratio: ``sqrt(1 - alpha)`` as a fraction (Moodle's error ratio / 100).
        standard_error: ``error_ratio * sd``, in marks.
        first_attempts_count / first_attempts_mean: over the first attempts, when known.
        all_attempts_count / all_attempts_mean: over every attempt given.
        questions: one :class:`QuestionStatistics` per column, in column order.
    """

    attempt_count: int
    question_count: int
    max_total: float
    mean: float | None
    median: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    cronbach_alpha: float | None
    error_ratio: float | None
    standard_error: float | None
    first_attempts_count: int | None
    first_attempts_mean: float | None
    all_attempts_count: int
    all_attempts_mean: float | None
    questions: tuple[QuestionStatistics, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the statistics as a plain JSON-friendly dict (questions as a list of dicts)."""
        data = asdict(self)
        data["questions"] = [q.to_dict() for q in self.questions]
        return data


def _mean(values: Sequence[float]) -> float:
    # fsum keeps the sums exact enough that constant columns give exactly-constant deviations
    # in practice and that the fixture comparisons hold to Moodle's 1e-6 relative tolerance.
    return math.fsum(values) / len(values)


def _covariance(a: Sequence[float], b: Sequence[float]) -> float:
    """Sample covariance ``sum (a_i - mean a)(b_i - mean b) / (n - 1)``; needs n >= 2."""
    mean_a, mean_b = _mean(a), _mean(b)
    return math.fsum((u - mean_a) * (v - mean_b) for u, v in zip(a, b, strict=True)) / (len(a) - 1)


def _is_constant(values: Sequence[float]) -> bool:
    # Zero variance is decided exactly (all values equal) rather than by testing a computed
    # variance against 0, which rounding can leave at 1e-17 and turn a None into garbage.
    return min(values) == max(values)


def _question_statistics(
    index: int, max_mark: float, marks: list[float], rests: list[float], totals: list[float]
) -> tuple[QuestionStatistics, bool]:
    """Statistics of one question from its marks, rest-of-test marks and totals.

    Returns the statistics (effective weight still None) and whether the covariance with the
    total is negative (Moodle's ``negcovar``).
    """
    s = len(marks)
    mean_mark = _mean(marks) if s else None
    # Moodle: facility = markaverage / maxmark, null when the maximum mark is 0.
    facility = mean_mark / max_mark if mean_mark is not None and max_mark != 0 else None

    if s < 2:
        # Moodle sets every variance-based figure to null for fewer than two attempts.
        empty = QuestionStatistics(index, max_mark, s, mean_mark, facility, *([None] * 10))
        return empty, False

    mark_constant = _is_constant(marks)
    rest_constant = _is_constant(rests)
    mark_variance = 0.0 if mark_constant else _covariance(marks, marks)
    rest_variance = 0.0 if rest_constant else _covariance(rests, rests)
    degenerate = mark_constant or rest_constant
    covariance = 0.0 if degenerate else _covariance(marks, rests)
    # Cmax pairs the i-th smallest mark with the i-th smallest rest-of-test mark; by Chebyshev's
    # sum inequality it is > 0 unless one list is constant, so it is 0 exactly when degenerate.
    covariance_max = 0.0 if degenerate else _covariance(sorted(marks), sorted(rests))
    covariance_with_total = 0.0 if mark_constant else _covariance(marks, totals)

    sd_marks = math.sqrt(mark_variance)
    sd = sd_marks / max_mark if max_mark != 0 else None
    if degenerate:
        discrimination_index = None
        discriminative_efficiency = None
    else:
        discrimination_index = 100 * covariance / math.sqrt(mark_variance * rest_variance)
        discriminative_efficiency = 100 * covariance / covariance_max

    stats = QuestionStatistics(
        index=index,
        max_mark=max_mark,
        s=s,
        mean_mark=mean_mark,
        facility=facility,
        sd=sd,
        sd_marks=sd_marks,
        mark_variance=mark_variance,
        rest_variance=rest_variance,
        covariance=covariance,
        covariance_max=covariance_max,
        covariance_with_total=covariance_with_total,
        discrimination_index=discrimination_index,
        discriminative_efficiency=discriminative_efficiency,
        effective_weight=None,
    )
    return stats, covariance_with_total < 0


def _median(values: Sequence[float]) -> float:
    # Moodle: the middle total, or the average of the two middle totals for an even count.
    ordered = sorted(values)
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def _validate(
    scores: Sequence[Sequence[Mark]],
    max_marks: Sequence[float],
    is_first_attempt: Sequence[bool] | None,
    first_attempts_only: bool,
) -> None:
    for j, m in enumerate(max_marks):
        if not math.isfinite(m) or m < 0:
            raise ValueError(f"max_marks[{j}] must be a finite number >= 0, got {m!r}")
    for i, row in enumerate(scores):
        if len(row) != len(max_marks):
            raise ValueError(
                f"scores row {i} has {len(row)} cells but there are {len(max_marks)} max_marks"
            )
        for j, cell in enumerate(row):
            if cell is not None and not math.isfinite(cell):
                raise ValueError(f"scores[{i}][{j}] must be a finite number or None, got {cell!r}")
    if is_first_attempt is not None and len(is_first_attempt) != len(scores):
        raise ValueError("is_first_attempt must have one flag per row of scores")
    if first_attempts_only and is_first_attempt is None:
        raise ValueError("first_attempts_only=True needs is_first_attempt")


def item_statistics(
    scores: Sequence[Sequence[Mark]],
    max_marks: Sequence[float],
    *,
    is_first_attempt: Sequence[bool] | None = None,
    first_attempts_only: bool = False,
) -> QuizStatistics:
    """Compute Moodle's quiz and question statistics from a matrix of marks.

    Args:
        scores: one row per quiz attempt, one column per question (Moodle's "slot"); each cell
            is the mark the attempt got for the question, in marks (0 .. max mark), or None
            when the question was not part of that attempt.

            How missing marks are treated, as Moodle does: a question that was in the attempt
            but not answered is graded 0 by Moodle (its null fraction sums as 0 and the attempt
            still counts in S), so pass 0 for it, not None. None means the question was not
            presented in the attempt at all (as with a random question that drew another
            question): the attempt is left out of that question's statistics (its S, mean,
            variances and covariances), as Moodle computes statistics only over the
            attempts in which a question appeared, and contributes nothing to the attempt's
            total. The rest-of-test mark is then the total minus this question's mark, the
            slot formula. (Moodle's separate per-sub-question table for random questions
            correlates with the whole total instead; that table is not reproduced here.)
            Cronbach's alpha, the error ratio and the standard error need complete data and
            are None when any cell is None.
        max_marks: the maximum mark of each question, finite and >= 0 (0 gives None facility
            and SD, as in Moodle).
        is_first_attempt: optional flag per row, True for a student's first attempt; used for
            ``first_attempts_count`` / ``first_attempts_mean`` and by ``first_attempts_only``.
        first_attempts_only: compute every statistic from the first attempts only (Moodle's
            "first attempts" choice); the default uses all rows given (Moodle's "all attempts").
            To use Moodle's "highest graded" or "last attempt" choices, pass only those rows.

    Returns:
        A frozen :class:`QuizStatistics` (with ``to_dict()``) holding per-question
        :class:`QuestionStatistics` in column order. Facility and SD are fractions of the
        question's maximum mark (Moodle displays them multiplied by 100 as percentages);
        discrimination index, discriminative efficiency and effective weight are on Moodle's
        percentage scale (-100 .. 100); Cronbach's alpha and the error ratio are fractions
        (Moodle's CIC and error ratio divided by 100); mean, median, SD and standard error of
        the totals are in marks.

    Raises:
        ValueError: for malformed input only (ragged rows, NaN or infinite marks, negative or
            non-finite maximum marks, ``first_attempts_only`` without ``is_first_attempt``).
            Degenerate but valid data (no attempts, one attempt, zero variance) gives None for
            the undefined figures instead.
    """
    _validate(scores, max_marks, is_first_attempt, first_attempts_only)
    max_marks = [float(m) for m in max_marks]
    all_rows = [list(row) for row in scores]
    # Attempt totals: the sum of the marks the attempt has (Moodle's summarks).
    all_totals = [math.fsum(c for c in row if c is not None) for row in all_rows]

    first_attempts_count: int | None = None
    first_attempts_mean: float | None = None
    if is_first_attempt is not None:
        first_totals = [t for t, first in zip(all_totals, is_first_attempt, strict=True) if first]
        first_attempts_count = len(first_totals)
        first_attempts_mean = _mean(first_totals) if first_totals else None

    if first_attempts_only:
        assert is_first_attempt is not None  # checked in _validate
        keep = [i for i, first in enumerate(is_first_attempt) if first]
        rows = [all_rows[i] for i in keep]
        totals = [all_totals[i] for i in keep]
    else:
        rows, totals = all_rows, all_totals

    p = len(max_marks)
    s = len(rows)

    questions: list[QuestionStatistics] = []
    negative: list[bool] = []
    for j, max_mark in enumerate(max_marks):
        seen = [i for i, row in enumerate(rows) if row[j] is not None]
        marks = [float(rows[i][j]) for i in seen]  # type: ignore[arg-type]
        q_totals = [totals[i] for i in seen]
        # Rest of test X = T - x, summed directly from the other cells rather than subtracted
        # from the total: the same number, but exact for marks like 0.1 where T - x can be off
        # by one ulp and turn a constant rest-of-test (undefined D) into a spurious value.
        rests = [
            math.fsum(c for k, c in enumerate(rows[i]) if k != j and c is not None) for i in seen
        ]
        stats, negcovar = _question_statistics(j, max_mark, marks, rests, q_totals)
        questions.append(stats)
        negative.append(negcovar)

    # Effective weight (Moodle): 100 sqrt(C(x,T)) / sum of sqrt(C(x_j,T)) over the questions
    # whose covariance with the total is not negative; None for a negative one, and for all
    # when that sum is 0.
    sum_sqrt_cov = math.fsum(
        math.sqrt(q.covariance_with_total)
        for q, neg in zip(questions, negative, strict=True)
        if q.covariance_with_total is not None and not neg
    )
    if sum_sqrt_cov:
        questions = [
            q
            if neg or q.covariance_with_total is None
            else replace(
                q, effective_weight=100 * math.sqrt(q.covariance_with_total) / sum_sqrt_cov
            )
            for q, neg in zip(questions, negative, strict=True)
        ]

    mean = _mean(totals) if s else None
    median = _median(totals) if s else None
    sd = skewness = kurtosis = alpha = error_ratio = standard_error = None
    if s > 1:
        assert mean is not None
        deviations = [t - mean for t in totals]
        power2 = math.fsum(d * d for d in deviations)
        constant_totals = _is_constant(totals)
        sd = 0.0 if constant_totals else math.sqrt(power2 / (s - 1))
        if not constant_totals:
            m2 = power2 / s
            k2 = s * m2 / (s - 1)  # = the sample variance of the totals
            if s > 2:
                m3 = math.fsum(d**3 for d in deviations) / s
                k3 = s * s * m3 / ((s - 1) * (s - 2))
                skewness = k3 / k2**1.5
            if s > 3:
                m4 = math.fsum(d**4 for d in deviations) / s
                k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
                kurtosis = k4 / (k2 * k2)
            complete = all(c is not None for row in rows for c in row)
            if p > 1 and complete:
                # Moodle's code computes the CIC only inside its S > 2 branch; the formula is
                # defined for S = 2 as well, so it is given for any S >= 2 here.
                # Moodle sums the questions' mark variances and uses P = the number of slots.
                # Alpha needs every attempt to have every question (always so for Moodle's
                # slots): with None cells the item variances come from different attempts
                # than V(T), the identity behind alpha breaks (it can exceed 1), so it is None.
                sum_mark_variance = math.fsum(
                    q.mark_variance for q in questions if q.mark_variance is not None
                )
                alpha = (p / (p - 1)) * (1 - sum_mark_variance / k2)
                # With complete data V(T) <= P * sum V(x_j) (Cauchy-Schwarz), so alpha <= 1 and
                # the root is real; max() only guards against a -1e-17 from rounding.
                error_ratio = math.sqrt(max(0.0, 1 - alpha))
                standard_error = error_ratio * sd

    return QuizStatistics(
        attempt_count=s,
        question_count=p,
        max_total=math.fsum(max_marks),
        mean=mean,
        median=median,
        sd=sd,
        skewness=skewness,
        kurtosis=kurtosis,
        cronbach_alpha=alpha,
        error_ratio=error_ratio,
        standard_error=standard_error,
        first_attempts_count=first_attempts_count,
        first_attempts_mean=first_attempts_mean,
        all_attempts_count=len(all_rows),
        all_attempts_mean=_mean(all_totals) if all_totals else None,
        questions=tuple(questions),
    )
