"""Template filters of the learning pages: formatting only (the views give the data)."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def due_since(due) -> str:
    """How long a card has been due: "just now" in its first minute (timesince says "0 minutes")."""
    if timezone.now() - due < timedelta(minutes=1):
        return "just now"
    return timesince(due)
