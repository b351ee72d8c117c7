"""What learners may see of items and submissions. The single place that strips keys."""

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
