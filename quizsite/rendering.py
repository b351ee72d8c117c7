"""Markdown + LaTeX to safe HTML with MathML: math is rendered on the server, no CDN, no JS.

`$...$` is inline math, `$$...$$` display math. Math is cut out before Markdown runs (so `_` and
`*` inside formulas survive), converted with latex2mathml, and put back after the HTML has been
sanitised. Both are cleaned with nh3: the HTML with its default allowlist, each formula with a
MathML allowlist (latex2mathml copies `\text{...}` into the output unescaped, so its output is
no more trusted than the LaTeX it came from).
"""

import html
import re
import secrets

import markdown
import nh3
from django.utils.html import format_html
from django.utils.safestring import SafeString
from latex2mathml.converter import convert as latex_to_mathml

_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(?!\s)([^$\n]+?)(?<![\s\\])\$", re.S)


# Presentation MathML (what latex2mathml writes), element by element; no event handlers, no links.
_MATHML_TAGS = {
    "math", "mrow", "mi", "mo", "mn", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac",
    "msqrt", "mroot", "mtable", "mtr", "mtd", "mover", "munder", "munderover", "mstyle", "mpadded",
    "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts", "none", "semantics",
}
_MATHML_ATTRIBUTES = {
    "display", "xmlns", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "form",
    "accent", "accentunder", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines",
    "rowlines", "frame", "width", "height", "depth", "linethickness", "displaystyle", "scriptlevel",
    "minsize", "maxsize", "movablelimits", "symmetric", "largeop", "notation",
}


def _mathml(latex: str, *, display: bool) -> str:
    try:
        converted = latex_to_mathml(latex, display="block" if display else "inline")
    except Exception:  # malformed LaTeX in a question: show the source rather than fail the page
        return f'<code class="math-error">{html.escape(latex)}</code>'
    return nh3.clean(converted, tags=_MATHML_TAGS, attributes={t: _MATHML_ATTRIBUTES for t in _MATHML_TAGS})


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


def verbatim(text: str) -> SafeString:
    """Typed text (an answer, an accepted-answer pattern) shown as typed: escaped, in <code>;
    the `mathdown` filter passes it through untouched."""
    return format_html('<code class="typed">{}</code>', text)
