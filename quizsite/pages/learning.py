
"""The learner's own pages: the home dashboard (reviews due, mastery per topic, streak), reviews,
the hint ladder, practice runs over several topics, the placement and the streak switch. Thin: parse the
request, call `questions.learning` (or `services`), render or redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from questions import errors
from questions.catalogue.models import Difficulty
from questions.courses import selectors as courses_selectors
from questions.learning import rules as learning_rules
from questions.learning import selectors as learning_selectors
from questions.learning import services as learning_services
from questions.practice import rules as practice_rules
from questions.practice import selectors as practice_selectors
from questions.practice.rules import kind_titles

from ..presenters import posted_int

# The chosen topics of the learner's current run, and how many items it has served.
RUN_SESSION_KEY = "practice_run"

PLACEMENT = "placement"  # the kind of run that is the placement (its questions drawn in advance)


KIND_SECTIONS = (
    ("Numeric problems", "numeric", ""),
    ("Code exercises", "code",
     "Write attention in NumPy or PyTorch. Your code runs in a sandbox on hidden tests; the mistake is named."),
)


def _continue(user, reviews, mastery, placement: str | None) -> dict:
    """The one thing the home leads with: the placement for a new learner (or the open one),
    else reviews due, else the learner's open course quiz, else a session on the topic they have
    mastered least (the bank's order breaks ties)."""
    if placement is not None:
        return {"kind": "placement", "offer": placement}
    if reviews.due_now:
        return {"kind": "reviews", "count": reviews.due_now}
    quiz = courses_selectors.quiz_to_take(learner=user)
    if quiz is not None:
        return {"kind": "quiz", "quiz": quiz}
    weakest = min(mastery, key=lambda m: m.percent, default=None)
    return {"kind": "topic", "slug": weakest.slug, "title": weakest.title} if weakest else {"kind": None}


def home_context(request: HttpRequest) -> dict:
    """What the home page shows, for every view that renders it (errors included): the problem
    kinds, and for a signed-in learner the dashboard (reviews due, mastery, streak, run topics)."""
    context = {"kinds": practice_rules.kinds(), "difficulties": Difficulty.choices, "kind_sections": KIND_SECTIONS}
    user = request.user
    if user.is_authenticated:
        profile = learning_selectors.learner_profile_for(user=user)
        run = request.session.get(RUN_SESSION_KEY) or {}
        reviews = learning_selectors.review_counts(learner=user)
        mastery = learning_selectors.mastery_by_topic(learner=user)
        placement = learning_selectors.placement_offer_for(learner=user, profile=profile)
        context["dash"] = {
            "continue": _continue(user, reviews, mastery, placement),
            "placement": {
                "length": learning_rules.PLACEMENT_LENGTH,
                "open": bool(profile.placement_items) and profile.placement_finished_at is None,
                "finished": profile.placement_finished_at is not None,
            },
            "reviews": reviews,
            "mastery": mastery,
            "run_lengths": learning_rules.RUN_LENGTHS,
            "run_default": learning_rules.RUN_DEFAULT_LENGTH,
            "mature_days": round(learning_rules.MATURE_DAYS),
            "show_streak": profile.show_streak,
            "streak": learning_selectors.streak_days(learner=user) if profile.show_streak else None,
            "practice_topics": learning_selectors.practice_topics(),
            "run_topics": run.get("topics") or [],
        }
    return context


def item_context(request: HttpRequest, item) -> dict:
    """What an item page shows beside the question: the hint ladder opened so far, and what the
    learner can do next (the next item of a run, reviews due)."""
    run = request.session.get(RUN_SESSION_KEY) or {}
    in_run = bool(run.get("topics")) and run.get("last_item") == item.id
    placement = in_run and run.get("kind") == PLACEMENT
    return {
        "ladder": learning_rules.hint_ladder(item),
        "actions": {
            "in_run": in_run,
            "in_placement": placement,
            "run_position": learning_rules.run_position(run, item.id) if in_run else None,
            "run_length": run.get("length", learning_rules.RUN_DEFAULT_LENGTH),
            "run_last": in_run and learning_rules.run_step(run)[0] == "done",
            # The placement's wrong answers fall due at once: its path comes first.
            "reviews_due": 0 if placement else learning_selectors.review_counts(learner=request.user).due_now,
            "is_review": item.purpose == "review",
        },
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "quizsite/home.html", home_context(request))


def _home_with_error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "quizsite/home.html", {**home_context(request), "error": message}, status=status)


# --- Reviews ------------------------------------------------------------------------------------


@login_required
@require_GET
def reviews(request: HttpRequest) -> HttpResponse:
    """The cards due now, and how reviews work."""
    context = {
        "due": learning_selectors.reviews_due_list(learner=request.user),
        "counts": learning_selectors.review_counts(learner=request.user),
        "rules": learning_rules.rating_rules(),
    }
    return render(request, "quizsite/learning/reviews.html", context)


@login_required
@require_POST
def review_start(request: HttpRequest) -> HttpResponse:
    """The most overdue card's item (the same one again if it is still unanswered)."""
    try:
        started = learning_services.review_item_next(learner=request.user)
    except errors.ServiceError as exc:
        return _home_with_error(request, exc.message, exc.status)
    if started is None:
        messages.info(request, "No reviews are due right now. Practise something new instead.")
        return redirect("home")
    return redirect("practice-item", item_id=started.item.id)


# --- Hints --------------------------------------------------------------------------------------


@login_required
@require_POST
def practice_hint(request: HttpRequest, item_id: int) -> HttpResponse:
    """Open a rung of the hint ladder. The form names the rung, so a double click counts once.

    A script's request (header `X-Requested-With: fetch`) gets the ladder's HTML fragment; a
    plain form post is sent back to the item page, at the hints.
    """
    item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
    rung = posted_int(request.POST.get("rung"))
    if rung is None:
        return HttpResponse("Say which hint to open (a number).", status=400, content_type="text/plain")
    fragment = request.headers.get("X-Requested-With") == "fetch"
    try:
        learning_services.hint_reveal(learner=request.user, item=item, rung=rung)
    except errors.ServiceError as exc:
        if fragment:
            return HttpResponse(exc.message, status=400, content_type="text/plain")
        messages.error(request, exc.message)
    item.refresh_from_db(fields=["hints_revealed"])
    if fragment:
        return render(request, "quizsite/_hints.html", {"item": item, **item_context(request, item)})
    url = reverse("practice-item", args=[item.id])
    submission = request.POST.get("submission", "").strip()
    if posted_int(submission) is not None:
        url += f"?submission={submission}"
    return redirect(url + "#hints")


# --- Practice runs over several topics ----------------------------------------------------------


def _next_in_run(request: HttpRequest) -> HttpResponse:
    """The session's next question: a new one while fewer than its length were served (the chosen
    topics take turns), then the questions skipped, in the order skipped, then its summary."""
    run = request.session.get(RUN_SESSION_KEY)
    if not run or not run.get("topics"):
        messages.info(request, "Choose the topics to practise first.")
        return redirect("home")
    step, skipped = learning_rules.run_step(run)
    placement = run.get("kind") == PLACEMENT
    if step == "done" and placement:
        learning_services.placement_finish(learner=request.user)
        return redirect("placement-summary")
    if step == "done":
        return redirect("practice-run-summary")
    if step == "skipped":
        run["skipped"] = run["skipped"][1:]
        run["last_item"] = skipped
        request.session[RUN_SESSION_KEY] = run
        return redirect("practice-item", item_id=skipped)
    if placement:
        drawn = learning_rules.run_next_drawn(run)
        if drawn is None:  # every question served: nothing is left to draw
            learning_services.placement_finish(learner=request.user)
            return redirect("placement-summary")
        request.session[RUN_SESSION_KEY] = {**run, "served": [*run["served"], drawn], "last_item": drawn}
        return redirect("practice-item", item_id=drawn)
    try:
        item = learning_services.practice_item_create_for_topics(
            learner=request.user, topic_slugs=run["topics"], turn=run.get("turn", 0)
        )
    except errors.ServiceError as exc:
        return _home_with_error(request, exc.message, exc.status)
    request.session[RUN_SESSION_KEY] = {
        **run,
        "turn": run.get("turn", 0) + 1,
        "served": [*run.get("served", []), item.id],
        "last_item": item.id,  # the item page offers "Next question" in the run on this item
    }
    return redirect("practice-item", item_id=item.id)


@login_required
@require_POST
def practice_run(request: HttpRequest) -> HttpResponse:
    """Start a session over the checked topics, of the chosen length (kept in the session), and
    serve its first question."""
    try:
        topics = learning_selectors.practice_run_topics(slugs=request.POST.getlist("topics"))
        length = learning_rules.run_length(request.POST.get("length"))
    except errors.ServiceError as exc:
        return _home_with_error(request, exc.message, 400)
    request.session[RUN_SESSION_KEY] = {"topics": topics, "turn": 0, "length": length, "served": [], "skipped": []}
    return _next_in_run(request)


@login_required
@require_POST
def practice_run_next(request: HttpRequest) -> HttpResponse:
    """The session's next question."""
    return _next_in_run(request)


@login_required
@require_POST
def practice_run_skip(request: HttpRequest) -> HttpResponse:
    """Skip the session's current question: it comes back after the others."""
    run = request.session.get(RUN_SESSION_KEY) or {}
    current = run.get("last_item")
    if current in run.get("served", []) and current not in run.get("skipped", []):
        run["skipped"] = [*run.get("skipped", []), current]
        request.session[RUN_SESSION_KEY] = run
    return _next_in_run(request)


@login_required
@require_GET
def practice_run_summary(request: HttpRequest) -> HttpResponse:
    """The session's end: score, mistakes with their worked solutions, topics to review, the next
    review. The session stays in place (a reload shows the same summary) until a new one starts."""
    run = request.session.get(RUN_SESSION_KEY) or {}
    if not run.get("served"):
        messages.info(request, "Start a practice session first.")
        return redirect("home")
    summary = learning_selectors.run_summary(learner=request.user, item_ids=run["served"], topics=run["topics"])
    return render(request, "quizsite/learning/run_summary.html",
                  {"summary": summary, "run": run, "kind_titles": kind_titles()})


# --- Topic practice at the learner's level ------------------------------------------------------


@login_required
@require_POST
def practice_topic(request: HttpRequest, topic_slug: str) -> HttpResponse:
    """The topic's next question, at the starting difficulty the learner's placement set for it
    (easy without one)."""
    try:
        item = learning_services.practice_item_create_at_level(learner=request.user, topic_slug=topic_slug)
    except errors.ServiceError as exc:
        return _home_with_error(request, exc.message, 400)
    return redirect("practice-item", item_id=item.id)


# --- The placement ------------------------------------------------------------------------------


@login_required
@require_POST
def placement_start(request: HttpRequest) -> HttpResponse:
    """Start the placement (or resume the open one: nothing new is drawn) as a session of its
    own: "Question n of N", skip, then its summary. Questions already answered are not served
    again."""
    try:
        started = learning_services.placement_start(learner=request.user)
    except errors.ServiceError as exc:
        return _home_with_error(request, exc.message, exc.status)
    entries = started.profile.placement_items
    order = [e["item"] for e in entries]
    request.session[RUN_SESSION_KEY] = {
        "kind": PLACEMENT,
        "topics": [e["topic"] for e in entries],
        "order": order,
        "length": len(order),
        "served": learning_selectors.placement_answered(learner=request.user, item_ids=order),
        "skipped": [],
    }
    return _next_in_run(request)


@login_required
@require_POST
def placement_skip(request: HttpRequest) -> HttpResponse:
    """Not now: the home stops offering the placement (its lower part keeps a link to it)."""
    learning_services.placement_skip(learner=request.user)
    messages.info(request, "Placement skipped: every topic starts at easy. You can take it later from the home page.")
    return redirect(reverse("home") + "#placement")


@login_required
@require_GET
def placement_summary(request: HttpRequest) -> HttpResponse:
    """The placement's end: per topic the level found and the starting difficulty it sets, the
    rule, and one Continue. Reading it writes nothing (answers still being graded fill in on a
    reload)."""
    placement = learning_selectors.placement_for(learner=request.user)
    if not placement.rows:
        messages.info(request, "Take the placement first.")
        return redirect("home")
    return render(request, "quizsite/learning/placement_summary.html", {
        "placement": placement,
        "rule": learning_rules.PLACEMENT_RULE,
        "kind_titles": kind_titles(),
    })


# --- Settings -----------------------------------------------------------------------------------


@login_required
@require_POST
def streak_setting(request: HttpRequest) -> HttpResponse:
    """Show (`show=1`) or hide (`show=0`) the streak. Posting the current value changes nothing."""
    show = request.POST.get("show", "")
    if show not in ("0", "1"):
        return _home_with_error(request, "Say whether to show the streak (show=1) or hide it (show=0).", 400)
    learning_services.learner_profile_set_streak(user=request.user, show=show == "1")
    return redirect(reverse("home") + "#streak")
