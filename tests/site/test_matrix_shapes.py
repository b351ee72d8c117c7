"""Matrices tell the style sheet their shape, so a phone can stack and scale them (issue #13,
phones): a display formula's box says how many columns its widest matrix has, formulas listed
side by side become a row of boxes, and answer grids, result and worked-solution tables say
their column count."""

import re

import numpy as np
import pytest

from attention_engine.api import generate, list_kinds
from questions.practice import services as practice_services
from quizsite.rendering import matrix_columns, render_markdown, side_by_side

BOX_COLUMNS = re.compile(r'<span class="math-box" data-cols="(\d+)"><math ')
TABLE_COLUMNS = re.compile(r'<table class="matrix[^"]*" data-cols="(\d+)">')
NUMERIC_KINDS = [k for k in list_kinds() if k["answer_type"] != "code"]


def test_formulas_listed_side_by_side_are_split_at_their_own_separators_only():
    row = r"W_Q = \begin{bmatrix} 1 & 2 \end{bmatrix}, \quad W_K = \begin{bmatrix} 3 \end{bmatrix}, \qquad c"
    assert side_by_side(row) == [r"W_Q = \begin{bmatrix} 1 & 2 \end{bmatrix},", r"W_K = \begin{bmatrix} 3 \end{bmatrix},", "c"]
    # A separator inside a group belongs to the formula; so does a \quad without a comma.
    for whole in (r"f_{a, \quad b}", r"\begin{bmatrix} a, \quad b \end{bmatrix}", r"\left( a, \quad b \right)",
                  r"\{a, \quad b\}", r"a \quad b", r"\frac{1}{, \quad B = 2"):
        assert side_by_side(whole) == [whole], whole


def test_a_display_formula_is_boxed_with_its_widest_matrix_column_count():
    assert matrix_columns(r"\begin{bmatrix} 1 & 2 & 3 \\ 4 & 5 & 6 \end{bmatrix} + \begin{pmatrix} 1 \\ 2 \end{pmatrix}") == 3
    assert matrix_columns(r"x^2 + \frac{1}{2}") == 0
    html = render_markdown(r"$$x^2$$ then $$A = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}$$ and $a$")
    assert '<span class="math-box"><math ' in html and BOX_COLUMNS.findall(html) == ["2"]
    assert "math-row" not in html and html.count('display="inline"') == 1  # inline math is not boxed
    row = render_markdown(r"$$A = \begin{bmatrix} 1 & 2 \end{bmatrix}, \quad B = \begin{bmatrix} 1 & 2 & 3 \end{bmatrix}$$")
    assert row.count('<span class="math-row">') == 1 and BOX_COLUMNS.findall(row) == ["2", "3"]


def test_a_malformed_formula_in_a_row_still_shows_its_source():
    html = render_markdown(r"$$A = \begin{bmatrix} 1 \end{bmatrix}, \quad B = \sqrt{$$")
    assert BOX_COLUMNS.findall(html) == ["1"] and '<code class="math-error">B = \\sqrt{</code>' in html


@pytest.mark.parametrize("kind", [k["name"] for k in NUMERIC_KINDS])
def test_every_kinds_prompt_boxes_each_given_matrix_with_the_engines_shape(kind):
    """The hardest variant's prompt: one box per matrix the engine gives, in order, each with the
    matrix's column count; several side by side make a row."""
    variant = generate(kind, 7, next(k for k in NUMERIC_KINDS if k["name"] == kind)["difficulties"][-1])
    matrices = [np.atleast_2d(np.array(v)).shape[1] for v in variant["params"].values()
                if isinstance(v, list) and v and isinstance(v[0], list)]
    html = render_markdown(variant["prompt"])
    assert [int(c) for c in BOX_COLUMNS.findall(html)] == matrices
    if r", \quad W_K" in variant["prompt"]:
        assert '<span class="math-row">' in html


@pytest.mark.django_db
def test_the_practice_and_result_pages_give_grids_and_tables_their_column_count(
    client, learner, django_capture_on_commit_callbacks
):
    item = practice_services.practice_item_create_numeric(learner=learner, kind="padding_mask", difficulty="hard")
    parts = item.variant.data["parts"]
    answer = {p["name"]: [["1"] * p["shape"][1] for _ in range(p["shape"][0])] for p in parts}
    with django_capture_on_commit_callbacks(execute=True):  # graded once the answer is stored
        submission = practice_services.submission_create(learner=learner, item=item, answer=answer).submission
    client.force_login(learner)

    page = client.get(f"/practice/items/{item.id}/").content.decode()
    grids = re.findall(r'data-part="(\w+)" data-shape="matrix" data-rows="(\d+)" data-cols="(\d+)"', page)
    assert grids == [(p["name"], str(p["shape"][0]), str(p["shape"][1])) for p in parts]
    assert page.count('<span class="math-row">') == 1

    result = client.get(f"/practice/items/{item.id}/?submission={submission.id}").content.decode()
    assert "data-score" in result
    answers, rest = result.split("Attention weights as a heatmap", 1)
    assert [int(c) for c in TABLE_COLUMNS.findall(answers)] == [p["shape"][1] for p in parts]
    heatmap_tables, worked = rest.split('class="worked"', 1)
    assert set(TABLE_COLUMNS.findall(heatmap_tables)) == {str(parts[1]["shape"][1])}  # weights: one column a key
    values = [v for step in item.variant.data["steps"] for v in step["values"].values()]
    columns = [np.atleast_2d(np.array(v, dtype=object)).shape[1] for v in values]  # a scalar: 1, a vector: one row
    assert sorted(int(c) for c in TABLE_COLUMNS.findall(worked)) == sorted(columns)
