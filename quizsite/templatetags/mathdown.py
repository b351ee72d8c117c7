from django import template
from django.utils.safestring import SafeData, mark_safe

from quizsite.rendering import render_markdown

register = template.Library()


@register.filter(name="mathdown")
def mathdown(text: str) -> str:
    """Markdown with $LaTeX$ rendered to sanitised HTML and MathML.

    Text that is already safe HTML (`rendering.verbatim`: what a learner typed) is left as it is.
    """
    if isinstance(text, SafeData):
        return text
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by render_markdown
