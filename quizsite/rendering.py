"""Markdown + LaTeX to safe HTML with MathML: math is rendered on the server, no CDN, no JS.

`$...$` is inline math, `$$...$$` display math. Math is cut out before Markdown runs (so `_` and
`*` inside formulas survive), converted with latex2mathml, and put back after the HTML has been
sanitised: author-supplied HTML is cleaned with nh3, our own MathML is trusted.
"""

import html
import re
import secrets

import markdown
import nh3
from latex2mathml.converter import convert as latex_to_mathml

_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(?!\s)([^$\n]+?)(?<![\s\\])\$", re.S)


def _mathml(latex: str, *, display: bool) -> str:
    try:
        return latex_to_mathml(latex, display="block" if display else "inline")
    except Exception:  # malformed LaTeX in a question: show the source rather than fail the page
        return f'<code class="math-error">{html.escape(latex)}</code>'


def render_markdown(text: str) -> str:
    """Render learner-facing Markdown with `$`-delimited LaTeX to sanitised HTML."""
    token = secrets.token_hex(8)
    formulas: list[str] = []

    def stash(match: re.Match) -> str:
        display = match.group(1) is not None
        formulas.append(_mathml(match.group(1) if display else match.group(2), display=display))
        return f"MATH{token}X{len(formulas) - 1}X"

    body = _MATH.sub(stash, text or "")
    rendered = markdown.markdown(body, extensions=["tables", "fenced_code", "sane_lists"])
    rendered = nh3.clean(rendered)
    return re.sub(rf"MATH{token}X(\d+)X", lambda m: formulas[int(m.group(1))], rendered)
