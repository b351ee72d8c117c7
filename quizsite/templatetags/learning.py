"""Template tags that give the learning partials their data (reads only, via questions.learning).

The practice page's view belongs to the practice pages; these tags let `_hints.html`,
`_item_actions.html` and the home page fetch what they need from the request and the item.
"""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from questions.learning import rules as learning_rules
from questions.learning import selectors as learning_selectors
from quizsite.learning_views import RUN_SESSION_KEY

register = template.Library()


@register.simple_tag
def hint_ladder_for(item) -> learning_rules.HintLadder:
    """`{% hint_ladder_for item as ladder %}`: the rungs opened so far and how many there are."""
    return learning_rules.hint_ladder(item)


@register.simple_tag(takes_context=True)
def item_actions_for(context, item) -> dict:
    """`{% item_actions_for item as actions %}`: what the learner can do after this item."""
    request = context["request"]
    run = request.session.get(RUN_SESSION_KEY) or {}
    return {
        "in_run": bool(run.get("topics")) and run.get("last_item") == item.id,
        "reviews_due": learning_selectors.review_counts(learner=request.user).due_now,
        "is_review": item.purpose == "review",
    }


@register.simple_tag(takes_context=True)
def learning_dashboard(context) -> dict:
    """`{% learning_dashboard as dash %}`: reviews due, mastery per topic, streak, run topics."""
    user = context["request"].user
    profile = learning_selectors.learner_profile_for(user=user)
    run = context["request"].session.get(RUN_SESSION_KEY) or {}
    return {
        "reviews": learning_selectors.review_counts(learner=user),
        "mastery": learning_selectors.mastery_by_topic(learner=user),
        "mature_days": round(learning_rules.MATURE_DAYS),
        "show_streak": profile.show_streak,
        "streak": learning_selectors.streak_days(learner=user) if profile.show_streak else None,
        "practice_topics": learning_selectors.practice_topics(),
        "run_topics": run.get("topics") or [],
    }


@register.filter
def due_since(due) -> str:
    """How long a card has been due: "just now" in its first minute (timesince says "0 minutes")."""
    if timezone.now() - due < timedelta(minutes=1):
        return "just now"
    return timesince(due)
