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


def item_view(item: PracticeItem) -> dict[str, Any]:
    """Either kind of item, as its learner sees it before answering."""
    if item.is_numeric:
        return numeric_item_view(item)
    version = item.question_version
    view = theory_question_view(version.data, shuffle_seed=item.id)
    view.update({"id": item.id, "type": "theory",
                 "topic": version.question.topic.slug, "version": version.number})
    return view


def theory_response_from_post(view: dict[str, Any], post) -> Any:
    """A theory form's fields as the response `grade_theory` reads (its checks name what is off)."""
    kind = view["question_type"]
    if kind == "single_choice":
        value = post.get("response", "")
        return int(value) if value.isdigit() else value
    if kind == "multiple_response":
        return [int(v) for v in post.getlist("response") if v.isdigit()]
    if kind == "true_false":
        return {"true": True, "false": False}.get(post.get("response", ""), post.get("response", ""))
    if kind == "matching":
        return {left: post.get(f"match-{i}") or None for i, left in enumerate(view["lefts"])}
    if kind == "ordering":
        positions = [post.get(f"order-{i}", "") for i in range(len(view["items"]))]
        if not all(p.strip().isdigit() for p in positions):
            return positions  # not a list of texts: reported as a format error
        ranked = sorted(zip((int(p) for p in positions), view["items"], strict=True))
        return [text for _, text in ranked]
    return post.get("response", "")


def answer_from_post(view: dict[str, Any], post) -> dict[str, Any]:
    """A posted answer form as the services take it: part -> typed text, or {"response": ...}."""
    if view["type"] == "numeric":
        return {p["name"]: post.get(f"part-{p['name']}", "") for p in view["parts"]}
    return {"response": theory_response_from_post(view, post)}


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
        item = submission.item
        if item.is_numeric:
            # In the order the problem asks them (stored JSON may not keep key order).
            order = [p["name"] for p in item.variant.data["parts"]]
            parts = {name: parts[name] for name in order if name in parts}
        else:
            # The theory grader's feedback already ends with the explanation; add its source.
            view["source"] = item.question_version.data["source"]
        view.update(
            {
                "parts": parts,
                "feedback": result.get("feedback", ""),
                "misconception": result.get("misconception"),
                "misconception_message": result.get("misconception_message"),
                "format_errors": result.get("format_errors", [])
                + ([{"part": "response", "message": result["format_error"]}] if result.get("format_error") else []),
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
        "question_type": data["type"],
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
