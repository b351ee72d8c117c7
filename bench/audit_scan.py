"""What the security audit looks for in a response: pure functions, no HTTP, no database.

- `response_text`: a body as the text a reader sees (tags stripped, entities and JSON unescaped),
  so a key is found whether a page or the API sent it.
- `numeric_markers` / `theory_markers`: strings that appear in a response only when a key went
  out with it (a key's values as the pages and the API write them; the explanation that goes
  with a theory key), minus whatever the question itself shows.
- `injected`: the elements and attributes an XSS payload managed to create in a page, found by
  tokenizing the HTML as a browser would, not by searching for the payload's text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

from questions.catalogue.theory import theory_key
from questions.formatting import format_number

_MARKDOWN_OR_LATEX = re.compile(r"[$*_`\[\]()#<>\\|~{}^\n]")
_SPACE = re.compile(r"\s+")
MIN_EXPLANATION_RUN = 25  # characters of plain prose: long enough never to occur by chance


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        # Attribute values a reader does not see still leave the server (a title, a data-*).
        self.parts.extend(f" {v} " for _, v in attrs if v)


def _json_leaves(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _json_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_leaves(item)
    elif value is not None:
        yield str(value)


def response_text(body: str, content_type: str) -> str:
    """The body as text with single spaces: JSON leaves joined, or HTML's text and attributes."""
    if "json" in content_type:
        try:
            return " ".join(_json_leaves(json.loads(body)))
        except ValueError:
            pass
    parser = _Text()
    parser.feed(body)
    parser.close()
    return _SPACE.sub(" ", html.unescape(" ".join(parser.parts)))


def _numbers(value: Any) -> Iterable[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)


def _distinctive(number: str) -> bool:
    """A written number that does not turn up by chance: 4+ significant digits."""
    return len(re.sub(r"[^0-9]", "", number).lstrip("0")) >= 4


def _written(number: float) -> set[str]:
    written = {format_number(number), repr(number)}
    if number.is_integer():
        written |= {str(int(number)), f"{int(number):,}"}
    return {w for w in written if _distinctive(w)}


def written_numbers(data: Any) -> set[str]:
    """Every number in `data` (a variant: params, key, worked steps), as pages and the API write it."""
    return set().union(*(_written(n) for n in set(_numbers(data))))


def numeric_markers(answer: dict[str, Any], public_text: str) -> list[frozenset[str]]:
    """A numeric key's values, each as the ways a page (`format_number`) or the API (JSON) writes
    it; only values with 4+ significant digits that the question's own view does not show."""
    markers: list[frozenset[str]] = []
    for number in _numbers(answer):
        written = _written(number)
        if written and not any(w in public_text for w in written) and frozenset(written) not in markers:
            markers.append(frozenset(written))
    return markers


def _prose_runs(text: str) -> list[str]:
    """The runs of plain prose in Markdown/LaTeX source, longest first."""
    runs = (_SPACE.sub(" ", run).strip() for run in _MARKDOWN_OR_LATEX.split(text or ""))
    return sorted((r for r in runs if len(r) >= MIN_EXPLANATION_RUN), key=len, reverse=True)


def theory_markers(data: dict[str, Any], public_text: str) -> set[str]:
    """What shows a theory question's key went out: the longest plain run of its explanation
    (every reveal of a key carries it: practice feedback, reviews, mock reviews), and a numeric
    answer with 4+ significant digits; never text the question itself shows. Short answers' own
    patterns are too common as words (`*softmax*`) to be proof."""
    key = theory_key(data)
    markers: set[str] = set()
    if data.get("type") == "numeric":
        markers |= {format_number(a) for a in key.get("answers", [])
                    if isinstance(a, int | float) and _distinctive(format_number(a))}
    markers |= set(_prose_runs(key.get("explanation", ""))[:1])
    return {m for m in markers if m not in public_text}


def numeric_key_seen(markers: list[frozenset[str]], text: str) -> bool:
    """Seen when every one of the key's values is there."""
    return bool(markers) and all(any(w in text for w in ways) for ways in markers)


def theory_key_seen(markers: set[str], text: str) -> bool:
    """Seen when any marker is there: each is proof on its own."""
    return any(m in text for m in markers)


# --- XSS ---------------------------------------------------------------------------------------

_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcdoc"}
_ACTIVE_TAGS = {"script", "iframe", "object", "embed", "base", "meta", "frame", "frameset", "applet", "link"}


class _Injected(HTMLParser):
    def __init__(self, marker: str) -> None:
        super().__init__(convert_charrefs=True)
        self.marker, self.hits = marker, []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        values = " ".join(f"{n}={v}" for n, v in attrs if v)
        if tag in _ACTIVE_TAGS and self.marker in values:
            self.hits.append(f"<{tag}> with the payload in its attributes")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") and self.marker.lower() in value:
                self.hits.append(f"<{tag} {name}=...>")
            if name in _URL_ATTRIBUTES and value.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.hits.append(f"<{tag} {name}={value[:30]}...>")
            if name == "style" and "expression(" in value:
                self.hits.append(f"<{tag} style=expression(...)>")
        self.in_script = tag == "script"

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script and self.marker in data:
            self.hits.append("<script> holding the payload")


def injected(page: str, marker: str) -> list[str]:
    """What the payload tagged `marker` made of the page: script, event handlers, script URLs."""
    parser = _Injected(marker)
    parser.feed(page)
    parser.close()
    return parser.hits


def xss_payloads(prefix: str = "XSS") -> list[tuple[str, str]]:
    """About 30 classic payloads, each tagged with its own marker: (marker, payload)."""
    templates = [
        "<script>alert('{m}')</script>",
        "<img src=x onerror=alert('{m}')>",
        "<svg onload=alert('{m}')>",
        "<svg><script>alert('{m}')</script></svg>",
        "\"><script>alert('{m}')</script>",
        "'><img src=x onerror=alert('{m}')>",
        "<body onload=alert('{m}')>",
        "<iframe src=\"javascript:alert('{m}')\"></iframe>",
        "<a href=\"javascript:alert('{m}')\">{m}</a>",
        "[{m}](javascript:alert('{m}'))",
        "![{m}](x\" onerror=\"alert('{m}'))",
        "<details open ontoggle=alert('{m}')>",
        "<input autofocus onfocus=alert('{m}')>",
        "<math><mtext><script>alert('{m}')</script></mtext></math>",
        "$\\text{<img src=x onerror=alert('{m}')>}$",
        "$$\\href{javascript:alert('{m}')}{x}$$",
        "<object data=\"javascript:alert('{m}')\"></object>",
        "<embed src=\"javascript:alert('{m}')\">",
        "<base href=\"javascript:alert('{m}')//\">",
        "<meta http-equiv=refresh content=\"0;url=javascript:alert('{m}')\">",
        "<form><button formaction=javascript:alert('{m}')>x</button></form>",
        "<div style=\"width:expression(alert('{m}'))\">{m}</div>",
        "<scr<script>ipt>alert('{m}')</scr</script>ipt>",
        "<IMG SRC=JaVaScRiPt:alert('{m}')>",
        "<img src=`x`onerror=alert('{m}')>",
        "javascript:alert('{m}')",
        "{{ '{m}' }}<script>alert('{m}')</script>",
        "</textarea><script>alert('{m}')</script>",
        "</title><script>alert('{m}')</script>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert('{m}')>\">",
    ]
    return [(f"{prefix}{i:02d}", t.replace("{m}", f"{prefix}{i:02d}")) for i, t in enumerate(templates)]
