"""What learners may see of items and submissions. The single place that strips keys."""

import random
from typing import Any

from attention_engine import api as engine
from questions.models import PracticeItem, Submission


def numeric_item_view(item: PracticeItem) -> dict[str, Any]:
    """The public part of a numeric item: prompt, params and the parts to answer, never the key."""
    public = engine.public(item.variant.data)
    return {
        "id": item.id,
        "type": "numeric",
        "kind": public["kind"],
        "difficulty": public["difficulty"],
        "prompt": public["prompt"],
        "params": public["params"],
        "parts": public["parts"],
    }


def submission_view(submission: Submission) -> dict[str, Any]:
    """A submission as its learner sees it: the result only once it is graded."""
    view: dict[str, Any] = {
        "id": submission.id,
        "item": submission.item_id,
        "status": submission.status,
        "score": submission.score,
        "created_at": submission.created_at.isoformat(),
        "graded_at": submission.graded_at.isoformat() if submission.graded_at else None,
    }
    result = submission.result or {}
    if submission.status != Submission.Status.PENDING:
        parts = result.get("parts", {})
        if submission.item.is_numeric:
            # In the order the problem asks them (stored JSON may not keep key order).
            order = [p["name"] for p in submission.item.variant.data["parts"]]
            parts = {name: parts[name] for name in order if name in parts}
        view.update(
            {
                "parts": parts,
                "feedback": result.get("feedback", ""),
                "misconception": result.get("misconception"),
                "misconception_message": result.get("misconception_message"),
                "format_errors": result.get("format_errors", []),
            }
        )
    return view


def theory_question_view(data: dict[str, Any], *, shuffle_seed: int = 0) -> dict[str, Any]:
    """A theory question as a learner sees it before answering: no weights, feedback or key.

    Matching answers and ordering items are shuffled (deterministically per seed) so their order
    gives nothing away.
    """
    rng = random.Random(shuffle_seed)
    view: dict[str, Any] = {
        "slug": data["slug"],
        "type": data["type"],
        "title": data["title"],
        "prompt": data["prompt"],
        "difficulty": data["difficulty"],
        "hint_count": len(data.get("hints") or []),
    }
    kind = data["type"]
    if kind in ("single_choice", "multiple_response"):
        view["choices"] = [c["text"] for c in data["choices"]]
    elif kind == "matching":
        rights = [p["right"] for p in data["pairs"]] + list(data.get("distractors") or [])
        rng.shuffle(rights)
        view["lefts"] = [p["left"] for p in data["pairs"]]
        view["rights"] = rights
    elif kind == "ordering":
        items = list(data["items"])
        for _ in range(10):  # a shuffle that happens to give the right order is drawn again
            rng.shuffle(items)
            if items != data["items"]:
                break
        view["items"] = items
    elif kind == "numeric":
        view["unit"] = data.get("unit")
    return view
