from django import template
from django.utils.safestring import mark_safe

from quizsite.rendering import render_markdown

register = template.Library()


@register.filter(name="mathdown")
def mathdown(text: str) -> str:
    """Markdown with $LaTeX$ rendered to sanitised HTML and MathML."""
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by render_markdown
