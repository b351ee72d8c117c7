"""Choice answers as learners send them: each option named by its id on the item
(`questions.keyed.choice_ids`), not by its number. Tests think in the author's numbers (choice 0
is the first one written); these turn them into what a browser or an API client posts."""

from __future__ import annotations

from typing import Any

from questions.keyed import choice_ids

CHOICE_TYPES = ("single_choice", "multiple_response")


def by_id(item, response: Any) -> Any:
    """The author's choice number (or a list of them) as the item's option ids; a response to
    any other type of question, or an item without choices, unchanged."""
    version = getattr(item, "question_version", None)
    if version is None or version.data.get("type") not in CHOICE_TYPES:
        return response
    ids = choice_ids(item.id, len(version.data["choices"]))
    if isinstance(response, list):
        return [ids[i] if isinstance(i, int) and 0 <= i < len(ids) else i for i in response]
    if isinstance(response, int) and not isinstance(response, bool) and 0 <= response < len(ids):
        return ids[response]
    return response


def answer_by_id(item, answer: Any) -> Any:
    """`{"response": n}` with the author's numbers as the item's option ids (other answers as given)."""
    if isinstance(answer, dict) and "response" in answer:
        return {**answer, "response": by_id(item, answer["response"])}
    return answer
