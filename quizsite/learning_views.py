"""The learner's own pages: the home dashboard (reviews due, mastery per topic, streak)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from attention_engine import api as engine
from questions import selectors
from questions.models import Difficulty


def home_context() -> dict:
    return {
        "kinds": engine.list_kinds(),
        "difficulties": Difficulty.choices,
        "topics": selectors.topics_with_counts(),
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "quizsite/home.html", home_context())
