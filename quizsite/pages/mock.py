
"""Mock interview pages. Thin: parse the request, call `questions.learning` (mock interviews), render.

No page shows a score, a key or feedback before the interview is over; the review does.
"""

import secrets
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from questions import errors
from questions.catalogue import selectors as catalogue_selectors
from questions.formatting import clock
from questions.learning import rules as learning_rules
from questions.learning import selectors as learning_selectors
from questions.learning import services as learning_services
from questions.learning.models import MockInterview
from questions.practice import rules as practice_rules
from questions.practice import selectors as practice_selectors
from questions.practice.rules import kind_titles

from ..disclosure import item_view, key_view, submission_view
from ..drafts import draft_context, drafts_awaiting_end
from ..presenters import (
    answer_from_post,
    answer_lines,
    errors_by_part,
    numeric_answer_lines,
    posted_int,
)


def _topics() -> list:
    """Topics a mock can draw from: those with published questions or problem kinds."""
    kind_topics = set(practice_rules.kinds_by_topic())
    return [t for t in catalogue_selectors.topics_with_counts() if t.published or t.slug in kind_topics]


# --- Start -------------------------------------------------------------------------------------


def _home_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "topics": _topics(),
        "presets": learning_rules.PRESETS,
        "chosen_topics": None,  # None: all checked
        "chosen_preset": learning_rules.DEFAULT_PRESET,
        "active": learning_selectors.mock_active(learner=request.user),
        "history": learning_selectors.mock_history(learner=request.user),
    }


@login_required
@require_GET
def mock_home(request: HttpRequest) -> HttpResponse:
    context = _home_context(request)
    if context["active"] is not None:
        context["active_clock"] = clock(learning_rules.seconds_left(context["active"]))
    return render(request, "quizsite/mock/home.html", context)


@login_required
@require_POST
def mock_start(request: HttpRequest) -> HttpResponse:
    topics = request.POST.getlist("topic")
    preset = request.POST.get("preset", "")
    try:
        started = learning_services.mock_interview_start(learner=request.user, topic_slugs=topics, preset_key=preset)
    except errors.ServiceError as exc:
        context = _home_context(request)
        context.update({"error": exc.message, "chosen_topics": topics, "chosen_preset": preset})
        return render(request, "quizsite/mock/home.html", context, status=exc.status)
    return redirect("mock-interview", mock_id=started.mock.id)


# --- The interview -----------------------------------------------------------------------------


def _first_unanswered(entries: list[learning_selectors.MockEntry], after: int = 0) -> int:
    """The next unanswered position after `after` (wrapping round), else `after` itself."""
    ordered = [e for e in entries if e.position > after] + [e for e in entries if e.position <= after]
    for entry in ordered:
        if entry.latest is None:
            return entry.position
    return after or (entries[0].position if entries else 1)


INTERVIEW_PAGE = "quizsite/mock/interview.html"
# An answer saved in place (live.js): the status, the question nav and the next question, rendered
# from the same partials as the page.
ANSWER_SAVED = "quizsite/mock/_answer_saved.html"


def _render_interview(
    request: HttpRequest, mock, entries, position: int, *, posted: dict | None = None,
    error: str = "", format_errors: list | None = None, status: int = 200,
    just_saved: int | None = None, template: str = INTERVIEW_PAGE,
) -> HttpResponse:
    current = next((e for e in entries if e.position == position), entries[0])
    view = item_view(current.item)
    saved = current.latest.answer if current.latest is not None else None
    typed = posted if posted is not None else (saved if isinstance(saved, dict) else {})
    format_errors = format_errors or []
    saved_position = request.GET.get("saved", "")
    context = {
        "mock": mock,
        "entries": entries,
        "current": current,
        "view": view,
        "typed": typed,
        "saved_lines": answer_lines(view, saved) if saved is not None and view["type"] == "theory" else [],
        "error": error,
        "format_errors": format_errors,
        "errors_by_part": errors_by_part(format_errors),
        "seconds_left": learning_rules.seconds_left(mock),
        "clock": clock(learning_rules.seconds_left(mock)),
        "answered": sum(1 for e in entries if e.latest is not None),
        "saved_position": just_saved if just_saved is not None else posted_int(saved_position),
        "idempotency_key": secrets.token_urlsafe(16),
        "kind_titles": kind_titles(),
        **draft_context(request, current.item, posted=posted),  # may replace "typed"
    }
    return render(request, template, context, status=status)


@login_required
@require_GET
def mock_interview(request: HttpRequest, mock_id: int) -> HttpResponse:
    mock = learning_selectors.mock_for_learner(learner=request.user, mock_id=mock_id)
    if mock.finished_at is not None:
        return redirect("mock-review", mock_id=mock.id)
    entries = learning_selectors.mock_entries(mock=mock)
    asked = request.GET.get("q", "")
    position = posted_int(asked)
    if position is None:
        position = _first_unanswered(entries)
    if not any(e.position == position for e in entries):
        position = entries[0].position
    return _render_interview(request, mock, entries, position)


def _closed(request: HttpRequest, mock, message: str) -> HttpResponse:
    return render(request, "quizsite/mock/closed.html", {"mock": mock, "error": message}, status=409)


@login_required
@require_POST
def mock_answer(request: HttpRequest, mock_id: int, position: int) -> HttpResponse:
    mock = learning_selectors.mock_for_learner(learner=request.user, mock_id=mock_id)
    entries = learning_selectors.mock_entries(mock=mock)
    entry = next((e for e in entries if e.position == position), None)
    if entry is None:
        return render(
            request, "quizsite/mock/closed.html",
            {"mock": mock, "error": f"This interview has no question {position}.", "not_found": True},
            status=404,
        )
    view = item_view(entry.item)
    answer = answer_from_post(view, request.POST)
    try:
        learning_services.mock_answer_submit(
            learner=request.user, mock_id=mock.id, position=position, answer=answer,
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except errors.MockClosed as exc:
        return _closed(request, mock, exc.message)
    except errors.AnswerFormatError as exc:
        return _render_interview(
            request, mock, entries, position, posted=answer,
            error=exc.message, format_errors=exc.details, status=400,
        )
    except errors.ServiceError as exc:  # e.g. an idempotency key another answer used
        return _render_interview(
            request, mock, entries, position, posted=answer,
            error=exc.message, status=exc.status,
        )
    entries = learning_selectors.mock_entries(mock=mock)
    following = _first_unanswered(entries, after=position)
    url = f"{reverse('mock-interview', args=[mock.id])}?q={following}&saved={position}"
    if request.headers.get("X-Requested-With") != "fetch":
        return redirect(url)
    response = _render_interview(request, mock, entries, following, just_saved=position, template=ANSWER_SAVED)
    response["X-Page-Url"] = url  # the address of what the learner now sees
    return response


@login_required
@require_http_methods(["GET", "POST"])
def mock_finish(request: HttpRequest, mock_id: int) -> HttpResponse:
    """GET asks for confirmation (no script needed); POST finishes (idempotent)."""
    mock = learning_selectors.mock_for_learner(learner=request.user, mock_id=mock_id)
    if request.method == "POST":
        learning_services.mock_interview_finish(learner=request.user, mock_id=mock.id)
        return redirect("mock-review", mock_id=mock.id)
    if mock.finished_at is not None:
        return redirect("mock-review", mock_id=mock.id)
    entries = learning_selectors.mock_entries(mock=mock)
    unsent = practice_selectors.items_with_unsent_drafts(learner=request.user, item_ids=[e.item.id for e in entries])
    return render(request, "quizsite/mock/finish.html", {
        "mock": mock,
        "answered": sum(1 for e in entries if e.latest is not None),
        "unsent": [e for e in entries if e.item.id in unsent],
        "clock": clock(learning_rules.seconds_left(mock)),
    })


# --- The review --------------------------------------------------------------------------------


def _review_context(summary: learning_selectors.MockSummary) -> dict[str, Any]:
    rows = []
    for entry in summary.review_rows():
        view = item_view(entry.item)
        latest = entry.latest
        missed = entry.outcome in (learning_rules.UNANSWERED, learning_rules.UNREADABLE)  # no graded result to learn from
        rows.append({
            **(key_view(entry.item, anchor=f"mock-{entry.item.id}") if missed else {}),
            "entry": entry,
            "view": view,
            "outcome": entry.outcome,
            "result": submission_view(latest) if latest is not None and entry.outcome != learning_rules.PENDING else None,
            "answer_lines": answer_lines(view, latest.answer) if latest and view["type"] == "theory" else [],
            # A graded numeric answer is shown cell by cell by _result.html; this is the rest.
            "numeric_lines": numeric_answer_lines(view, latest.answer)
            if latest and view["type"] == "numeric" and entry.outcome in (learning_rules.PENDING, learning_rules.UNREADABLE)
            else [],
        })
    mock = summary.mock
    # Past the deadline but not stored yet (reads never write): its drafts are graded once it is.
    stored_end = MockInterview.objects.filter(id=mock.id, finished_at__isnull=False).exists()
    unsent = drafts_awaiting_end(learner=mock.learner_id, item_ids=[row["entry"].item.id for row in rows],
                                 stored_end=stored_end)
    return {
        "mock": summary.mock,
        "summary": summary,
        "waiting": summary.pending + unsent,  # answers still to grade, drafts included
        "rows": rows,
        "counts": {o: summary.count(o) for o in (learning_rules.RIGHT, learning_rules.PARTIAL, learning_rules.WRONG, learning_rules.UNREADABLE, learning_rules.UNANSWERED, learning_rules.PENDING)},
        "kind_titles": kind_titles(),
    }


def _finished_summary(request: HttpRequest, mock_id: int) -> learning_selectors.MockSummary | None:
    mock = learning_selectors.mock_for_learner(learner=request.user, mock_id=mock_id)
    if mock.finished_at is None:
        return None  # still running: no review, no score
    return learning_selectors.mock_summary(mock=mock)


@login_required
@require_GET
def mock_review(request: HttpRequest, mock_id: int) -> HttpResponse:
    summary = _finished_summary(request, mock_id)
    if summary is None:
        return redirect("mock-interview", mock_id=mock_id)
    return render(request, "quizsite/mock/review.html", _review_context(summary))


@login_required
@require_GET
def mock_review_body(request: HttpRequest, mock_id: int) -> HttpResponse:
    """The review's body, for polling while the worker grades (data-pending says how many)."""
    summary = _finished_summary(request, mock_id)
    if summary is None:
        return HttpResponse("The interview is still running: the review opens when it ends.", status=409)
    # 202 while some answers are still being graded: live.js asks again.
    context = _review_context(summary)
    return render(request, "quizsite/mock/_review_body.html", context, status=202 if context["waiting"] else 200)
