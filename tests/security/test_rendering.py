"""MathML only in text nodes (issue #11, finding 8).

A formula in an attribute value (a link's href or title, an image's alt) used to get MathML
substituted into the attribute, which broke the markup. Now an attribute keeps the formula's
LaTeX source as text (escaped), and a URL attribute drops it, so a formula can never smuggle a
scheme past the sanitiser.
"""

from html.parser import HTMLParser

import pytest

from quizsite.rendering import render_markdown


class Tags(HTMLParser):
    """Each start tag with its attributes, as a browser's tokenizer reads them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def attributes(html: str, tag: str) -> list[dict[str, str | None]]:
    return [attrs for name, attrs in Tags(html).tags if name == tag]


@pytest.mark.parametrize("text", [
    '[a]($x$ "t $y$")',
    "![$x$](u)",
    '![$x$](u "$y$")',
    '[a]($$x$$ "$$y$$")',
    '<a href="$x$" title="$y^2$">a</a>',
])
def test_no_attribute_value_holds_markup(text):
    html = render_markdown(text)
    for name, attrs in Tags(html).tags:
        for value in attrs.values():
            assert "<" not in (value or "") and "math" not in (value or ""), (text, html)
        assert name in {"p", "a", "img"}, (text, html)


def test_a_formula_in_a_title_or_alt_stays_latex_source_and_text_still_gets_mathml():
    html = render_markdown('See [the $x$ link]($x$ "t $y < z$") and ![$\\sqrt{d_k}$](u).')
    (link,) = attributes(html, "a")
    (image,) = attributes(html, "img")
    assert link["title"] == "t $y < z$"
    assert image["alt"] == "$\\sqrt{d_k}$" and image["src"] == "u"
    assert html.count("<math ") == 1  # the link's text, a text node
    assert 'title="t $y &lt; z$"' in html


def test_a_formula_cannot_put_a_scheme_into_a_url():
    for text in ("[a]($javascript:alert(1)$)", "![a]($javascript:alert(1)$)", '<a href="$javascript:alert(1)$">a</a>'):
        html = render_markdown(text)
        assert "javascript" not in html.lower(), (text, html)
