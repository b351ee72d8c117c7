"""Hypothesis properties that hold for any marks, whatever the data."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from questions.courses.statistics import item_statistics

MAX_MARKS = st.sampled_from([0.5, 1.0, 2.0, 3.0, 5.0, 10.0])
FRACTIONS = st.sampled_from([0.0, 0.1, 0.25, 1 / 3, 0.5, 0.75, 0.9, 1.0])


@st.composite
def mark_matrices(draw, allow_none: bool = True, min_attempts: int = 0):
    """A score matrix of marks in [0, max mark], with some cells None (not presented)."""
    n_questions = draw(st.integers(1, 6))
    n_attempts = draw(st.integers(min_attempts, 15))
    max_marks = draw(st.lists(MAX_MARKS, min_size=n_questions, max_size=n_questions))
    cell = FRACTIONS | st.none() if allow_none else FRACTIONS
    scores = [
        [None if (f := draw(cell)) is None else f * max_marks[j] for j in range(n_questions)]
        for _ in range(n_attempts)
    ]
    return scores, max_marks


@settings(max_examples=300, deadline=None)
@given(mark_matrices())
def test_facility_is_a_fraction_and_figures_are_in_range(data):
    scores, max_marks = data
    stats = item_statistics(scores, max_marks)
    for q in stats.questions:
        if q.facility is not None:
            assert -1e-12 <= q.facility <= 1 + 1e-12
        if q.sd is not None:
            assert q.sd >= 0
        if q.discrimination_index is not None:
            # A correlation, times 100.
            assert -100 - 1e-9 <= q.discrimination_index <= 100 + 1e-9
            # DE can be below -100, but C <= Cmax (rearrangement inequality) and Cmax <= sqrt(V(x) V(X))
            # (Cauchy-Schwarz), so DE <= 100 and |DE| >= |D|.
            assert q.discriminative_efficiency is not None
            assert q.discriminative_efficiency <= 100 + 1e-9
            assert abs(q.discriminative_efficiency) >= abs(q.discrimination_index) - 1e-9
    if any(c is None for row in scores for c in row):
        # Alpha is only defined for complete data (see test_hand_computed).
        assert stats.cronbach_alpha is None
    if stats.cronbach_alpha is not None:
        assert stats.cronbach_alpha <= 1 + 1e-12
        assert stats.error_ratio is not None and stats.error_ratio >= 0


@settings(max_examples=300, deadline=None)
@given(mark_matrices(), st.data())
def test_discrimination_is_invariant_to_scaling_a_questions_marks(data, draw):
    # Multiplying question j's marks (and its max) by c > 0 leaves its correlation with the
    # rest of the test, its efficiency, facility and SD-as-a-fraction unchanged.
    scores, max_marks = data
    j = draw.draw(st.integers(0, len(max_marks) - 1))
    c = draw.draw(st.floats(0.01, 100))
    scaled = [
        [(v * c if (k == j and v is not None) else v) for k, v in enumerate(row)] for row in scores
    ]
    scaled_max = [m * c if k == j else m for k, m in enumerate(max_marks)]
    before = item_statistics(scores, max_marks).questions[j]
    after = item_statistics(scaled, scaled_max).questions[j]
    for name in ("discrimination_index", "discriminative_efficiency", "facility", "sd"):
        a, b = getattr(before, name), getattr(after, name)
        if a is None:
            assert b is None, name
        else:
            assert b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), name


@settings(max_examples=200, deadline=None)
@given(mark_matrices(min_attempts=1))
def test_order_of_attempts_does_not_matter(data):
    scores, max_marks = data
    forward = item_statistics(scores, max_marks)
    backward = item_statistics(scores[::-1], max_marks)
    for a, b in zip(forward.questions, backward.questions, strict=True):
        for name in ("facility", "sd", "discrimination_index", "discriminative_efficiency"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None)
            if x is not None:
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
    assert forward.median == backward.median


@settings(max_examples=200, deadline=None)
@given(mark_matrices(allow_none=False, min_attempts=2))
def test_effective_weights_share_out_100_percent(data):
    scores, max_marks = data
    weights = [q.effective_weight for q in item_statistics(scores, max_marks).questions]
    if all(w is not None for w in weights) and any(w > 0 for w in weights):
        assert math.isclose(sum(weights), 100, rel_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(mark_matrices(allow_none=False, min_attempts=2))
def test_alpha_matches_the_variance_formula(data):
    # Without None cells, alpha is P/(P-1) (1 - sum V(x_j) / V(T)) with V the sample variance;
    # recompute it independently with statistics.variance.
    import statistics as pystats

    scores, max_marks = data
    stats = item_statistics(scores, max_marks)
    p = len(max_marks)
    totals = [sum(row) for row in scores]
    var_t = pystats.variance(totals)
    if p > 1 and min(totals) != max(totals):
        item_vars = [pystats.variance([row[j] for row in scores]) for j in range(p)]
        expected = p / (p - 1) * (1 - sum(item_vars) / var_t)
        assert stats.cronbach_alpha is not None
        assert math.isclose(stats.cronbach_alpha, expected, rel_tol=1e-7, abs_tol=1e-7)
    else:
        assert stats.cronbach_alpha is None
