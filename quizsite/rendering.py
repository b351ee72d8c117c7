"""Markdown + LaTeX to safe HTML with MathML: math is rendered on the server, no CDN, no JS.

`$...$` is inline math, `$$...$$` display math. Math is cut out before Markdown runs (so `_` and
`*` inside formulas survive), converted with latex2mathml, and put back after the HTML has been
sanitised. Both are cleaned with nh3: the HTML with its default allowlist, each formula with a
MathML allowlist (latex2mathml copies `\text{...}` into the output unescaped, so its output is
no more trusted than the LaTeX it came from).

Formulas are put back by tokenizing the sanitised HTML, never by replacing strings in it: a
formula in a text node becomes MathML; one in an attribute value (a link's title, an image's
alt) stays its LaTeX source, escaped, and one in a URL attribute is dropped, since a formula
there was never math and its source (`$javascript:...$`) went past the sanitiser as a
placeholder.

A display formula sits in a `math-box` that says how many columns its widest matrix has
(`data-cols`), so a phone's style sheet can scale it by its shape, and that alone scrolls when
even the smallest size is too wide. A display formula that lists several formulas side by side
(`Q = ..., \\quad K = ..., \\quad V = ...`) becomes one box per formula in a `math-row`, which
stacks them on a narrow screen: one MathML formula cannot be broken across lines.
"""

import html
import re
import secrets
from html.parser import HTMLParser

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


# What `side_by_side` reads of a formula: a line break (skipped), what opens or closes a group
# (braces, brackets, environments, \left...\right), and a list separator ("A = ..., \quad B").
_LATEX_TOKEN = re.compile(r"\\\\|\\[{}]|\\(?:begin|end|left|right)(?![a-zA-Z])|[{}()\[\]]|,\s*\\q?quad(?![a-zA-Z])")
_OPENS = {"{", r"\{", "(", "[", r"\begin", r"\left"}
_CLOSES = {"}", r"\}", ")", "]", r"\end", r"\right"}
_MATRIX = re.compile(r"\\begin\{([a-zA-Z]*matrix)\}(.*?)\\end\{\1\}", re.S)


def side_by_side(latex: str) -> list[str]:
    r"""The formulas a display formula lists side by side (``X = ..., \quad Y = ...``): split at
    each ``,\quad`` or ``,\qquad`` outside every brace, bracket, environment and
    ``\left...\right`` (an unbalanced one keeps the rest whole); the comma stays with the formula
    before it."""
    depth, start, pieces = 0, 0, []
    for match in _LATEX_TOKEN.finditer(latex):
        token = match.group(0)
        if token in _OPENS:
            depth += 1
        elif token in _CLOSES:
            depth = max(depth - 1, 0)
        elif token.startswith(",") and depth == 0:
            pieces.append(latex[start:match.start() + 1])
            start = match.end()
    pieces.append(latex[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def matrix_columns(latex: str) -> int:
    """The number of columns of the widest matrix in a formula (0 when it has none)."""
    return max((row.count("&") + 1 for m in _MATRIX.finditer(latex) for row in m.group(2).split(r"\\")), default=0)


def _display(latex: str) -> str:
    """A display formula in its box (a row of boxes when it lists several side by side)."""
    boxes = []
    for piece in side_by_side(latex) or [latex]:
        columns = matrix_columns(piece)
        shape = f' data-cols="{columns}"' if columns else ""
        boxes.append(f'<span class="math-box"{shape}>{_mathml(piece, display=True)}</span>')
    return boxes[0] if len(boxes) == 1 else f'<span class="math-row">{"".join(boxes)}</span>'


# Attributes whose value is a URL (of those nh3's default allowlist keeps, and a few more).
_URL_ATTRIBUTES = {"href", "src", "cite", "longdesc", "action", "formaction", "poster", "srcset", "background"}


class _Formulas(HTMLParser):
    """Re-emits sanitised HTML token by token, putting each formula back where it may go.

    `placeholder` matches a formula's placeholder; `mathml[i]` and `source[i]` are formula i
    rendered and as written. Attribute values are re-escaped; everything else is copied as it came.
    """

    def __init__(self, placeholder: re.Pattern, mathml: list[str], source: list[str]) -> None:
        super().__init__(convert_charrefs=False)
        self.placeholder, self.mathml, self.source = placeholder, mathml, source
        self.out: list[str] = []
        self.text: list[str] = []  # raw pieces of the current text node, entity references included

    def rendered(self, sanitised: str) -> str:
        self.feed(sanitised)
        self.close()
        self.flush()
        return "".join(self.out)

    def flush(self) -> None:
        if self.text:
            raw = "".join(self.text)
            self.out.append(self.placeholder.sub(lambda m: self.mathml[int(m.group(1))], raw))
            self.text = []

    def attribute(self, name: str, value: str | None) -> str:
        if value is None:
            return f" {name}"
        if name in _URL_ATTRIBUTES:
            value = self.placeholder.sub("", value)
        else:
            value = self.placeholder.sub(lambda m: self.source[int(m.group(1))], value)
        return f' {name}="{html.escape(value, quote=True)}"'

    def tag(self, tag: str, attrs: list[tuple[str, str | None]], end: str) -> None:
        self.flush()
        self.out.append(f"<{tag}{''.join(self.attribute(n, v) for n, v in attrs)}{end}>")

    def handle_starttag(self, tag, attrs):
        self.tag(tag, attrs, "")

    def handle_startendtag(self, tag, attrs):
        self.tag(tag, attrs, " /")

    def handle_endtag(self, tag):
        self.flush()
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        self.text.append(data)

    def handle_entityref(self, name):
        self.text.append(f"&{name};")

    def handle_charref(self, name):
        self.text.append(f"&#{name};")

    # nh3 keeps no comments, declarations or processing instructions; none is passed on.
    def handle_comment(self, data):
        self.flush()

    def handle_decl(self, decl):
        self.flush()

    def handle_pi(self, data):
        self.flush()

    def unknown_decl(self, data):
        self.flush()


def render_markdown(text: str) -> str:
    """Render learner-facing Markdown with `$`-delimited LaTeX to sanitised HTML."""
    token = secrets.token_hex(8)
    mathml: list[str] = []
    source: list[str] = []

    def stash(match: re.Match) -> str:
        display = match.group(1) is not None
        mathml.append(_display(match.group(1)) if display else _mathml(match.group(2), display=False))
        source.append(match.group(0))
        return f"MATH{token}X{len(mathml) - 1}X"

    body = _MATH.sub(stash, text or "")
    rendered = markdown.markdown(body, extensions=["tables", "fenced_code", "sane_lists"])
    sanitised = nh3.clean(rendered)
    return _Formulas(re.compile(rf"MATH{token}X(\d+)X"), mathml, source).rendered(sanitised)


def verbatim(text: str) -> SafeString:
    """Typed text (an answer, an accepted-answer pattern) shown as typed: escaped, in <code>;
    the `mathdown` filter passes it through untouched."""
    return format_html('<code class="typed">{}</code>', text)
