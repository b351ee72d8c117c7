"""Markdown + LaTeX rendering: MathML comes out, script never does, typed text stays as typed."""

import pytest
from django.template import Context, Template

from quizsite.presenters import answer_lines
from quizsite.rendering import render_markdown, verbatim

ATTACKS = [
    r"$\text{<img/src/onerror=alert(1)>}$",
    r"$$\text{<script>alert(1)</script>}$$",
    r"$\mathrm{<svg onload=alert(1)>}$",
    r"$\text{<a href='javascript:alert(1)'>x</a>}$",
    "<img src=x onerror=alert(1)> *and* $x$",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_no_markup_of_the_authors_or_learners_survives_in_or_out_of_math(text):
    html = render_markdown(text).lower()
    for bad in ("<script", "<svg", "onerror", "onload", "javascript:"):
        assert bad not in html, (text, html)


def test_nothing_but_mathml_comes_out_of_a_formula():
    assert "<img" not in render_markdown(r"$\text{<img src=x>}$")
    assert "<mo>&lt;</mo>" in render_markdown("$a < b$")


def test_math_still_renders_as_mathml():
    html = render_markdown(r"Scale by $\frac{1}{\sqrt{d_k}}$, and $$A = \begin{bmatrix}1 & 2\\ 3 & 4\end{bmatrix}$$")
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in html
    assert "<mfrac>" in html and "<msqrt>" in html and 'display="block"' in html and "<mtable>" in html


def test_a_typed_answer_is_shown_as_typed_not_as_markdown_or_math():
    typed = r"$\text{<b>x</b>}$ *shift*invarian*"
    view = {"question_type": "short_answer"}
    (line,) = answer_lines(view, {"response": typed})
    page = Template("{% load mathdown %}{{ line|mathdown }}").render(Context({"line": line}))
    assert page == '<code class="typed">$\\text{&lt;b&gt;x&lt;/b&gt;}$ *shift*invarian*</code>'
    assert verbatim("<i>") == '<code class="typed">&lt;i&gt;</code>'
