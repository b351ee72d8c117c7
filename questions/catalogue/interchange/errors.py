"""Errors and import reports shared by the GIFT and Moodle XML converters."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ExportFormatError", "ImportFormatError", "SkippedQuestion"]


class ImportFormatError(ValueError):
    """A file that cannot be imported; nothing from it is imported.

    ``line`` is the 1-based line the problem was found on (for XML: the parser's line, or the
    line of the ``<question>`` element, or of the element inside it that is wrong).
    """

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message, line)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


class ExportFormatError(ValueError):
    """A question that cannot be written in the requested format without changing it.

    Raised instead of writing a file that Moodle would misread (for example a matching left
    side containing ``->`` in GIFT, or a weight that is not one of Moodle's grades).
    """

    def __init__(self, message: str, slug: str | None = None) -> None:
        super().__init__(message, slug)
        self.message = message
        self.slug = slug

    def __str__(self) -> str:
        return self.message if self.slug is None else f"question '{self.slug}': {self.message}"


@dataclass(frozen=True)
class SkippedQuestion:
    """A question of a Moodle type the neutral format has no place for (description, cloze...).

    Only produced when an importer is called with ``skip_unsupported=True``; by default such a
    question is an :class:`ImportFormatError`.
    """

    line: int
    moodle_type: str
    title: str
    reason: str

    def __str__(self) -> str:
        name = f" '{self.title}'" if self.title else ""
        return f"line {self.line}: skipped {self.moodle_type} question{name}: {self.reason}"
