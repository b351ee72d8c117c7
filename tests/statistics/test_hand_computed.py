"""Small cases worked by hand, and the degenerate cases that must give None, not raise."""

from __future__ import annotations

import json
import math

import pytest

from questions.courses.statistics import item_statistics


def test_four_attempts_three_questions_worked_example():
    # Q1 max 1, Q2 max 2, Q3 max 1; totals T = [4, 2, 2, 0].
    scores = [
        [1, 2, 1],
        [1, 1, 0],
        [0, 1, 1],
        [0, 0, 0],
    ]
    stats = item_statistics(scores, [1, 2, 1])
    q1, q2, q3 = stats.questions

    # Q1: x = [1,1,0,0], mean 0.5 -> facility 0.5/1 = 0.5.
    #   V(x) = 4 * 0.25 / (4-1) = 1/3, SD = sqrt(1/3) = 0.57735 (max 1, so same as a fraction).
    #   rest X = T - x = [3,1,2,0], mean 1.5, deviations [1.5,-0.5,0.5,-1.5],
    #   V(X) = (2.25+0.25+0.25+2.25)/3 = 5/3.
    #   C(x,X) = (0.5*1.5 + 0.5*-0.5 + -0.5*0.5 + -0.5*-1.5)/3 = (0.75-0.25-0.25+0.75)/3 = 1/3.
    #   D = 100 * (1/3) / sqrt(1/3 * 5/3) = 100 / sqrt(5) = 44.7214.
    #   Cmax: sorted x [0,0,1,1] (dev -.5,-.5,.5,.5) with sorted X [0,1,2,3] (dev -1.5,-.5,.5,1.5)
    #   = (0.75+0.25+0.25+0.75)/3 = 2/3, so DE = 100 * (1/3)/(2/3) = 50.
    assert q1.s == 4
    assert q1.facility == pytest.approx(0.5)
    assert q1.sd == pytest.approx(math.sqrt(1 / 3))
    assert q1.rest_variance == pytest.approx(5 / 3)
    assert q1.covariance == pytest.approx(1 / 3)
    assert q1.covariance_max == pytest.approx(2 / 3)
    assert q1.discrimination_index == pytest.approx(100 / math.sqrt(5))
    assert q1.discriminative_efficiency == pytest.approx(50)

    # Q2: x = [2,1,1,0], mean 1 -> facility 1/2 = 0.5; V(x) = (1+0+0+1)/3 = 2/3,
    #   SD = sqrt(2/3) = 0.8165 marks = 0.40825 of the max mark 2.
    #   X = T - x = [2,1,1,0] = x, so D = 100 (perfect correlation) and Cmax = C, DE = 100.
    assert q2.facility == pytest.approx(0.5)
    assert q2.sd_marks == pytest.approx(math.sqrt(2 / 3))
    assert q2.sd == pytest.approx(math.sqrt(2 / 3) / 2)
    assert q2.discrimination_index == pytest.approx(100)
    assert q2.discriminative_efficiency == pytest.approx(100)

    # Q3: x = [1,0,1,0], X = [3,2,1,0]: deviations (.5,-.5,.5,-.5) and (1.5,.5,-.5,-1.5),
    #   C = (0.75-0.25-0.25+0.75)/3 = 1/3, V(x) = 1/3, V(X) = 5/3, D = 100/sqrt(5) again.
    assert q3.discrimination_index == pytest.approx(100 / math.sqrt(5))

    # Effective weight: C(x,T) with T deviations [2,0,0,-2]:
    #   Q1 (.5*2 + -.5*-2)/3 = 2/3, Q2 (1*2 + -1*-2)/3 = 4/3, Q3 (.5*2 + -.5*-2)/3 = 2/3.
    #   EW_1 = 100 sqrt(2/3) / (2 sqrt(2/3) + sqrt(4/3)) = 100 / (2 + sqrt 2) = 29.289.
    assert q1.effective_weight == pytest.approx(100 / (2 + math.sqrt(2)))
    assert q2.effective_weight == pytest.approx(100 * math.sqrt(2) / (2 + math.sqrt(2)))
    assert sum(q.effective_weight for q in stats.questions) == pytest.approx(100)

    # Quiz: T = [4,2,2,0], mean 2, median (2+2)/2 = 2, deviations d = [2,0,0,-2].
    #   sum d^2 = 8 -> SD = sqrt(8/3) = 1.63299; sum d^3 = 0 -> skewness 0.
    #   m2 = 8/4 = 2, m4 = 32/4 = 8, k2 = 4*2/3 = 8/3,
    #   k4 = 16 * (5*8 - 3*3*2^2) / (3*2*1) = 16*4/6 = 32/3, kurtosis = (32/3)/(8/3)^2 = 1.5.
    #   alpha = 3/2 * (1 - (1/3 + 2/3 + 1/3) / (8/3)) = 1.5 * 0.5 = 0.75.
    #   error ratio = sqrt(1 - 0.75) = 0.5, standard error = 0.5 * sqrt(8/3).
    assert stats.attempt_count == 4
    assert stats.question_count == 3
    assert stats.max_total == 4
    assert stats.mean == pytest.approx(2)
    assert stats.median == pytest.approx(2)
    assert stats.sd == pytest.approx(math.sqrt(8 / 3))
    assert stats.skewness == pytest.approx(0, abs=1e-12)
    assert stats.kurtosis == pytest.approx(1.5)
    assert stats.cronbach_alpha == pytest.approx(0.75)
    assert stats.error_ratio == pytest.approx(0.5)
    assert stats.standard_error == pytest.approx(0.5 * math.sqrt(8 / 3))


def test_skewness_and_kurtosis_of_a_skewed_distribution():
    # One question, max 4, totals T = [0,0,0,4]: mean 1, d = [-1,-1,-1,3].
    #   sum d^2 = 12, sum d^3 = -3 + 27 = 24, sum d^4 = 3 + 81 = 84; S = 4.
    #   m2 = 3, m3 = 6, m4 = 21, k2 = 4*3/3 = 4, k3 = 16*6/(3*2) = 16, skewness = 16/4^1.5 = 2.
    #   k4 = 16 * (5*21 - 3*3*9) / (3*2*1) = 16*24/6 = 64, kurtosis = 64/4^2 = 4.
    #   SD = sqrt(12/3) = 2, median = (0+0)/2 = 0.
    stats = item_statistics([[0], [0], [0], [4]], [4])
    assert stats.skewness == pytest.approx(2)
    assert stats.kurtosis == pytest.approx(4)
    assert stats.sd == pytest.approx(2)
    assert stats.median == 0
    # One question: alpha needs P > 1; its rest of test is always 0, so D and DE are undefined.
    assert stats.cronbach_alpha is None
    assert stats.questions[0].discrimination_index is None
    assert stats.questions[0].discriminative_efficiency is None
    assert stats.questions[0].facility == pytest.approx(0.25)


def test_median_of_odd_count_is_the_middle_total():
    stats = item_statistics([[3], [1], [2]], [5])
    assert stats.median == 2
    assert stats.mean == pytest.approx(2)


def test_parallel_items_have_alpha_one():
    # Three identical columns: each V(x_j) = v, V(T) = 9v, alpha = 3/2 (1 - 3v/9v) = 1.
    column = [0, 1, 1, 0, 1]
    stats = item_statistics([[c, c, c] for c in column], [1, 1, 1])
    assert stats.cronbach_alpha == pytest.approx(1)
    assert stats.error_ratio == pytest.approx(0, abs=1e-7)


def test_discrimination_uses_the_rest_of_the_test_not_the_total():
    # Q1 = [1,0,1,0], Q2 = [0,1,0,1]: the rest of the test for Q1 is exactly Q2, perfectly
    # anti-correlated, so D = -100. Correlating with the total T = [1,1,1,1] instead would be
    # undefined (constant), so this catches that mistake.
    stats = item_statistics([[1, 0], [0, 1], [1, 0], [0, 1]], [1, 1])
    assert stats.questions[0].discrimination_index == pytest.approx(-100)
    # Cmax pairs sorted x [0,0,1,1] with sorted X [0,0,1,1]: C = -1/3, Cmax = +1/3, DE = -100.
    assert stats.questions[0].discriminative_efficiency == pytest.approx(-100)
    # Both covariances with the (constant) total are 0 -> no weight to share out.
    assert stats.questions[0].effective_weight is None


def test_discriminative_efficiency_differs_from_discrimination():
    # x = [0,1,1], X = [0,2,1] -> mean x 2/3, mean X 1.
    #   C = ((-2/3)(-1) + (1/3)(1) + (1/3)(0)) / 2 = (2/3 + 1/3)/2 = 1/2.
    #   V(x) = (4/9 + 1/9 + 1/9)/2 = 1/3, V(X) = (1 + 1 + 0)/2 = 1,
    #   D = 100 (1/2) / sqrt(1/3) = 86.603.
    #   Cmax: sorted x [0,1,1], sorted X [0,1,2]: ((-2/3)(-1) + (1/3)(0) + (1/3)(1))/2 = 1/2,
    #   so DE = 100: the marks are as well ordered as they can be, though not perfectly
    #   correlated.
    stats = item_statistics([[0, 0], [1, 2], [1, 1]], [1, 2])
    q = stats.questions[0]
    assert q.discrimination_index == pytest.approx(100 * 0.5 / math.sqrt(1 / 3))
    assert q.discriminative_efficiency == pytest.approx(100)


def test_none_means_not_presented_and_is_left_out():
    # Q2 not in attempt A, Q3 not in attempt D. Totals: A 1+1 = 2, B 2, C 0, D 0+1 = 1.
    scores = [
        [1, 1, None],
        [1, 0, 1],
        [0, 0, 0],
        [0, None, 1],
    ]
    stats = item_statistics(scores, [1, 1, 1])
    q1, q2, q3 = stats.questions
    assert [q.s for q in stats.questions] == [4, 3, 3]
    # Facility over the attempts that saw the question: Q2 1/3 (not 1/4), Q3 2/3 (not 2/4).
    assert q2.facility == pytest.approx(1 / 3)
    assert q3.facility == pytest.approx(2 / 3)
    # A missing cell adds nothing to the total: mean total = (2+2+0+1)/4 = 1.25.
    assert stats.mean == pytest.approx(1.25)
    # Q1: x = [1,1,0,0], X = T - x = [1,1,0,1] (mean .75, dev .25,.25,-.75,.25), V(X) = .75/3.
    #   C = (.5*.25 + .5*.25 + -.5*-.75 + -.5*.25)/3 = .5/3 = 1/6, V(x) = 1/3,
    #   D = 100 (1/6) / sqrt(1/3 * 1/4) = 100 sqrt(12)/6 = 57.735.
    assert q1.discrimination_index == pytest.approx(100 * math.sqrt(12) / 6)
    # Q2 over A, B, C: x = [1,0,0], X = [1,2,0] (dev 0,1,-1):
    #   C = (2/3*0 + -1/3*1 + -1/3*-1)/2 = 0 -> D = 0 and DE = 0.
    assert q2.discrimination_index == pytest.approx(0, abs=1e-12)
    assert q2.discriminative_efficiency == pytest.approx(0, abs=1e-12)


def test_alpha_is_none_with_missing_cells():
    # Q1 seen in one attempt only, so its variance is undefined; Moodle would add 0 for it and
    # report alpha = 2 (1 - 0 / V(T)) = 2 > 1, which is meaningless. Any None cell gives None.
    stats = item_statistics([[0.5, 0], [None, 1], [None, 0.5]], [1, 1])
    assert stats.sd is not None
    assert stats.cronbach_alpha is None
    assert stats.error_ratio is None
    assert stats.standard_error is None


def test_one_attempt_gives_none_for_every_spread_statistic():
    stats = item_statistics([[1, 0.5]], [1, 1])
    q1, q2 = stats.questions
    assert q1.facility == 1
    assert q2.facility == 0.5
    for q in stats.questions:
        assert q.sd is None
        assert q.sd_marks is None
        assert q.discrimination_index is None
        assert q.discriminative_efficiency is None
        assert q.effective_weight is None
    assert stats.mean == 1.5
    assert stats.median == 1.5
    for name in ("sd", "skewness", "kurtosis", "cronbach_alpha", "error_ratio", "standard_error"):
        assert getattr(stats, name) is None, name


def test_no_attempts():
    stats = item_statistics([], [1, 2])
    assert stats.attempt_count == 0
    assert stats.mean is None
    assert stats.median is None
    assert stats.all_attempts_mean is None
    assert [q.s for q in stats.questions] == [0, 0]
    assert all(q.facility is None for q in stats.questions)


def test_zero_variance_question_and_zero_variance_rest():
    # Everyone gets Q1 right: V(x) = 0, so D and DE are undefined for Q1; and Q1 is Q2's whole
    # rest of test, constant, so D and DE are undefined for Q2 too.
    stats = item_statistics([[1, 0], [1, 1], [1, 0.5]], [1, 1])
    q1, q2 = stats.questions
    assert q1.facility == 1
    assert q1.sd == 0
    assert q1.discrimination_index is None
    assert q1.discriminative_efficiency is None
    assert q2.sd is not None and q2.sd > 0
    assert q2.discrimination_index is None
    assert q2.discriminative_efficiency is None


def test_constant_inexact_marks_are_detected_as_zero_variance():
    # 0.1 + 0.1 + 0.1 is not exactly 3 * 0.1 in binary, so a variance computed from the mean
    # would come out as about 1e-34, not 0, and D would be noise. It must be None.
    stats = item_statistics([[0.1, 1, 0], [0.1, 0, 1], [0.1, 1, 1]], [1, 1, 1])
    assert stats.questions[0].sd == 0
    assert stats.questions[0].discrimination_index is None
    assert stats.questions[0].discriminative_efficiency is None


def test_all_totals_equal():
    stats = item_statistics([[1, 0], [0, 1]], [1, 1])
    assert stats.sd == 0
    assert stats.cronbach_alpha is None
    assert stats.skewness is None
    assert stats.kurtosis is None


def test_few_attempts_for_higher_moments():
    two = item_statistics([[1, 1], [0, 1]], [1, 1])
    assert two.skewness is None and two.kurtosis is None
    # alpha = 2 (1 - (1/2 + 0) / (1/2)) = 0 with two attempts.
    assert two.cronbach_alpha == pytest.approx(0)
    three = item_statistics([[1, 1], [0, 1], [0, 0]], [1, 1])
    assert three.skewness is not None
    assert three.kurtosis is None


def test_zero_max_mark():
    stats = item_statistics([[0, 1], [0, 0], [0, 1]], [0, 1])
    assert stats.questions[0].facility is None
    assert stats.questions[0].sd is None
    assert stats.questions[0].sd_marks == 0


def test_first_attempts_only():
    scores = [[1, 1], [0, 1], [1, 0], [0, 0]]
    firsts = [True, False, True, True]
    only = item_statistics(scores, [1, 1], is_first_attempt=firsts, first_attempts_only=True)
    direct = item_statistics([scores[0], scores[2], scores[3]], [1, 1])
    assert only.questions == direct.questions
    assert only.attempt_count == 3
    assert only.mean == direct.mean
    # Both averages are reported, as in Moodle: firsts (2+1+0)/3 = 1, all (2+1+1+0)/4 = 1.
    assert only.first_attempts_count == 3
    assert only.first_attempts_mean == pytest.approx(1)
    assert only.all_attempts_count == 4
    assert only.all_attempts_mean == pytest.approx(1)
    everyone = item_statistics(scores, [1, 1], is_first_attempt=firsts)
    assert everyone.attempt_count == 4
    assert everyone.first_attempts_count == 3


@pytest.mark.parametrize(
    ("scores", "max_marks", "kwargs"),
    [
        ([[1, 0], [1]], [1, 1], {}),
        ([[math.nan]], [1], {}),
        ([[1]], [-1], {}),
        ([[1]], [math.inf], {}),
        ([[1]], [1], {"first_attempts_only": True}),
        ([[1]], [1], {"is_first_attempt": [True, False]}),
    ],
)
def test_malformed_input_raises_value_error(scores, max_marks, kwargs):
    with pytest.raises(ValueError):
        item_statistics(scores, max_marks, **kwargs)


def test_to_dict_is_json_ready_and_frozen():
    stats = item_statistics([[1, 0], [0, 1], [1, 1]], [1, 1])
    data = stats.to_dict()
    json.dumps(data)
    assert data["questions"][0]["facility"] == pytest.approx(2 / 3)
    assert set(data["questions"][0]) >= {
        "facility",
        "sd",
        "discrimination_index",
        "discriminative_efficiency",
    }
    assert "cronbach_alpha" in data
    with pytest.raises(AttributeError):
        stats.mean = 0  # type: ignore[misc]
