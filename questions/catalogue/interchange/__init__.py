"""GIFT and Moodle XML import and export of bank questions.

Both formats convert to and from the neutral question dicts of ``questions/bank/FORMAT.md``
(the same dicts the YAML bank loader produces). Imported dicts carry, besides the FORMAT.md
fields, ``format`` (the Moodle text format of prompt and feedback: ``moodle``, ``html``,
``plain`` or ``markdown``), ``category`` (the Moodle category path, when the file sets one)
and, for numeric questions whose file has a catch-all ``*`` answer, ``other_feedback``.
Exported dicts without ``format`` are written as Markdown, the bank's own format.

Pure Python (standard library only): no Django, no torch. Typical use::

    from questions.catalogue import interchange

    questions = interchange.parse(uploaded_text)          # format detected
    gift_text = interchange.dump(questions, "gift")
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from . import gift, moodle_xml
from .errors import ExportFormatError, ImportFormatError, SkippedQuestion

__all__ = [
    "FORMATS",
    "ExportFormatError",
    "ImportFormatError",
    "SkippedQuestion",
    "detect_format",
    "dump",
    "gift",
    "moodle_xml",
    "parse",
]

Format = Literal["gift", "moodle_xml"]
FORMATS: tuple[Format, ...] = ("gift", "moodle_xml")

# An XML declaration, comments and whitespace, then <quiz: a Moodle XML file.
_XML_START_RE = re.compile(r"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<quiz[\s>/]", re.S)


def detect_format(text: str | bytes) -> Format:
    """``"moodle_xml"`` for a file that is an XML document, else ``"gift"``.

    A GIFT file cannot start with ``<?xml`` or with a ``<quiz>`` element, so these two are
    enough; a broken XML file still detects as XML and its error then names the line.
    """
    head = text[:4096]
    if isinstance(head, bytes):
        head = head.decode("utf-8", errors="replace")
    head = head.lstrip("\ufeff")
    if head.lstrip().startswith("<?xml") or _XML_START_RE.match(head):
        return "moodle_xml"
    return "gift"


def _module(format: str) -> Any:
    """The converter module of a format name."""
    if format == "gift":
        return gift
    if format == "moodle_xml":
        return moodle_xml
    raise ValueError(f"unknown interchange format {format!r} (one of {', '.join(FORMATS)})")


def parse(text: str | bytes, format: Format | None = None, *, filename: str | None = None,
          skip_unsupported: bool = False,
          skipped: list[SkippedQuestion] | None = None) -> list[dict[str, Any]]:
    """Import a GIFT or Moodle XML file (``format=None``: :func:`detect_format`).

    Raises :class:`ImportFormatError` (with ``.line``) for a broken file; nothing is imported
    then. See :func:`gift.parse` for ``skip_unsupported`` and ``skipped``.
    """
    module = _module(format or detect_format(text))
    return module.parse(text, filename=filename, skip_unsupported=skip_unsupported,
                        skipped=skipped)


def dump(questions: Iterable[Mapping[str, Any]], format: Format) -> str:
    """Export question dicts as GIFT or Moodle XML text; raises :class:`ExportFormatError`."""
    return _module(format).dump(questions)
