"""The draft of an answer form, for the pages that show one (practice, quiz attempt, mock
interview): where drafts.js keeps what is typed, and the draft to fill the form with again."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from questions.practice import selectors as practice_selectors
from questions.practice.models import PracticeItem


def draft_context(request: HttpRequest, item: PracticeItem, *, posted: dict | None) -> dict[str, Any]:
    """`draft_url` for the form (`_draft_status.html`), and, unless the page shows what was just
    posted, the learner's draft as `typed` with `restored_at` when it is newer than any answer
    submitted (`selectors.draft_to_restore`: a reload, another device)."""
    context: dict[str, Any] = {"draft_url": reverse("practice-item-draft", args=[item.id]), "restored_at": None}
    draft = None if posted is not None else practice_selectors.draft_to_restore(learner=request.user, item=item)
    if draft is not None and isinstance(draft.answer, dict):
        context.update(typed=draft.answer, restored_at=draft.updated_at)
    return context


def drafts_awaiting_end(*, learner, item_ids: list[int], stored_end: bool) -> int:
    """How many drafts the end of a quiz attempt or mock interview will submit and grade, while
    that end is read (past the deadline) but not stored yet: the beat task stores it within
    ATTEMPT_CLOSE_INTERVAL_SECONDS, so the review counts them as being graded and keeps asking."""
    if stored_end:
        return 0
    return len(practice_selectors.items_with_unsent_drafts(learner=learner, item_ids=item_ids))
