"""The JSON API (v1) for practice: topics, kinds, items, hints, submissions and reviews.

Views parse (a request serializer), call a service or selector, and answer through a response
serializer (`quizsite.api.serializers`) rendering a `quizsite.disclosure` view, so the schema at
/api/schema/ is what is sent."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from attention_engine import api as engine
from questions.catalogue.models import Difficulty, Topic
from questions.errors import ServiceError
from questions.learning import rules as learning_rules
from questions.learning import selectors as learning_selectors
from questions.learning import services as learning_services
from questions.practice import selectors as practice_selectors
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem

from ..code_runs import runnable_code_item
from ..disclosure import asked_key, code_run_view, item_view, practice_submission_view
from ..presenters import wait_seconds
from . import serializers as s
from .base import IDEMPOTENCY_KEY, JsonView, idempotency_key


class TopicList(JsonView):
    @extend_schema(responses={200: s.TopicSerializer(many=True), **s.error_responses()})
    def get(self, request):
        kinds_by_topic: dict[str, list[str]] = {}
        for kind in engine.list_kinds():
            for topic in kind["topics"]:
                kinds_by_topic.setdefault(topic, []).append(kind["name"])
        topics = [
            {
                "slug": t.slug,
                "title": t.title,
                "description": t.description,
                "kinds": kinds_by_topic.pop(t.slug, []),
            }
            for t in Topic.objects.all()
        ]
        topics += [
            {"slug": slug, "title": slug.replace("-", " ").replace("_", " ").capitalize(),
             "description": "", "kinds": kinds}
            for slug, kinds in sorted(kinds_by_topic.items())
        ]
        return Response(s.TopicSerializer(topics, many=True).data)


class KindList(JsonView):
    @extend_schema(responses={200: s.KindSerializer(many=True), **s.error_responses()})
    def get(self, request):
        return Response(s.KindSerializer(engine.list_kinds(), many=True).data)


def item_body(item: PracticeItem) -> dict[str, Any]:
    """An item as the API returns it: the presenter's view, its purpose and its hint count."""
    ladder = learning_rules.hint_ladder(item)
    view = {
        **item_view(item),
        "purpose": item.purpose,
        "hints": {"revealed": len(ladder.revealed), "total": ladder.total},
    }
    return s.PracticeItemSerializer(view).data


class PracticeItemCreate(JsonView):
    @extend_schema(request=s.PracticeItemRequest,
                   responses={201: s.PracticeItemSerializer, **s.error_responses(202, 400, 415, 503)},
                   examples=[OpenApiExample("A problem kind", {"kind": "self_attention", "difficulty": "easy"},
                                            request_only=True),
                             OpenApiExample("A topic", {"topic": "scaled-dot-product"}, request_only=True)])
    def post(self, request):
        body = s.PracticeItemRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "topic" in data:
            topics = learning_selectors.practice_run_topics(slugs=[data["topic"]])
            item = learning_services.practice_item_create_for_topics(learner=request.user, topic_slugs=topics, turn=0)
        else:
            item = practice_services.practice_item_create_numeric(
                learner=request.user, kind=data["kind"], difficulty=data.get("difficulty", Difficulty.MEDIUM)
            )
        return Response(item_body(item), status=status.HTTP_201_CREATED)


class PracticeItemDetail(JsonView):
    @extend_schema(responses={200: s.PracticeItemSerializer, **s.error_responses(404)})
    def get(self, request, item_id: int):
        item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
        return Response(item_body(item))


class HintReveal(JsonView):
    """Open a rung of the item's hint ladder. Hints never cost marks or count as an answer; a
    right answer after one is rated Hard for spaced repetition. Returns the open rungs."""

    @extend_schema(request=s.HintRequest,
                   responses={200: s.HintLadderSerializer, **s.error_responses(400, 404, 415)})
    def post(self, request, item_id: int):
        item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
        body = s.HintRequest(data=request.data)
        body.is_valid(raise_exception=True)
        ladder = learning_services.hint_reveal(learner=request.user, item=item, rung=body.validated_data.get("rung"))
        return Response(s.HintLadderSerializer(ladder.to_dict()).data)


class ReviewList(JsonView):
    @extend_schema(responses={200: s.ReviewsSerializer, **s.error_responses()})
    def get(self, request):
        cards = learning_selectors.reviews_due_list(learner=request.user)
        counts = learning_selectors.review_counts(learner=request.user)
        view = {"due": len(cards), "due_later_today": counts.due_later_today, "cards": cards}
        return Response(s.ReviewsSerializer(view).data)


class ReviewNext(JsonView):
    """The item for the most overdue card: 201 when made now, 200 when the same card's item is
    still unanswered (asking twice gives one review), 409 when nothing is due."""

    @extend_schema(request=None, responses={
        201: s.PracticeItemSerializer, 200: s.PracticeItemSerializer,
        **s.error_responses(202, 503),
        409: OpenApiResponse(s.ErrorSerializer, description="No review is due right now"),
    })
    def post(self, request):
        started = learning_services.review_item_next(learner=request.user)
        if started is None:
            return Response(s.ErrorSerializer({"detail": "No reviews are due right now."}).data,
                            status=status.HTTP_409_CONFLICT)
        return Response(
            item_body(started.item), status=status.HTTP_201_CREATED if started.created else status.HTTP_200_OK
        )


class SubmissionCreate(JsonView):
    @extend_schema(
        request=s.SubmissionRequest,
        parameters=[IDEMPOTENCY_KEY],
        examples=[OpenApiExample("Numeric", {"answer": {"scores": [[1, 0.5], [0.5, 1]]}}, request_only=True),
                  OpenApiExample("Theory, single choice (an option's id)", {"answer": {"response": "k7q2mxw4b9tz3d5a"}}, request_only=True),
                  OpenApiExample("Code", {"answer": {"code": "def attention(Q, K, V, mask=None):\n    ..."}},
                                 request_only=True)],
        responses={202: s.SubmissionSerializer, **s.error_responses(400, 404, 415)},
    )
    def post(self, request, item_id: int):
        item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
        body = s.SubmissionRequest(data=request.data)
        body.is_valid(raise_exception=True)
        created = practice_services.submission_create(
            learner=request.user, item=item, answer=body.validated_data["answer"],
            idempotency_key=idempotency_key(request),
        )
        # A replay with the same key answers like the original request, with the same submission.
        return Response(s.SubmissionSerializer(practice_submission_view(created.submission)).data,
                        status=status.HTTP_202_ACCEPTED)


class AnswerKey(JsonView):
    """Ask for a practice or review theory question's answer before using the tries: from now on
    its results carry the key and the explanation. Returns the key."""

    @extend_schema(request=None, responses={200: s.KeySerializer, **s.error_responses(400, 404)})
    def post(self, request, item_id: int):
        item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
        item = practice_services.practice_key_show(learner=request.user, item=item)
        return Response(s.KeySerializer(asked_key(item)).data)


class CodeRun(JsonView):
    """Run code on a code exercise's visible examples, in a sandbox on the code worker ("Run
    examples"). Nothing is stored and no attempt is counted; the answer is the per-example
    results. 202 with Retry-After while the worker is still running it: send the same code again."""

    @extend_schema(request=s.CodeRunRequest,
                   examples=[OpenApiExample("Code", {"code": "def attention(Q, K, V, mask=None):\n    ..."},
                                            request_only=True)],
                   responses={200: s.CodeRunSerializer, **s.error_responses(202, 400, 404, 415, 503)})
    def post(self, request, item_id: int):
        item = runnable_code_item(learner=request.user, item_id=item_id)
        body = s.CodeRunRequest(data=request.data)
        body.is_valid(raise_exception=True)
        result = practice_services.code_examples_run(learner=request.user, item=item,
                                                     answer={"code": body.validated_data["code"]})
        return Response(s.CodeRunSerializer(code_run_view(result)).data)


class ItemDraft(JsonView):
    """Keep what the learner has typed so far for one of their items (any: practice, review, mock
    interview, quiz), to restore it on any device; graded in place of a missing answer if the quiz
    or interview runs out first. One row per item, replaced each time; nothing is graded now."""

    @extend_schema(
        request=s.SubmissionRequest,
        examples=[OpenApiExample("Numeric, half typed", {"answer": {"scores": [["1", ""], ["", ""]]}},
                                 request_only=True)],
        responses={
            204: OpenApiResponse(description="Kept"),
            409: OpenApiResponse(s.ErrorSerializer, description="The item takes no more answers (its attempt "
                                 "or interview is over, or it is graded): the draft was not kept"),
            **s.error_responses(400, 404, 415),
        },
    )
    def put(self, request, item_id: int):
        item = practice_selectors.draft_item_for_learner(learner=request.user, item_id=item_id)
        body = s.SubmissionRequest(data=request.data)
        body.is_valid(raise_exception=True)
        practice_services.answer_draft_save(learner=request.user, item=item, answer=body.validated_data["answer"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubmissionDetail(JsonView):
    @extend_schema(
        parameters=[OpenApiParameter(
            "wait", int, required=False,
            description="Long poll: if the answer is still pending, answer as soon as it is graded, or after "
                        "this many seconds (0 to LONG_POLL_SECONDS, 10 by default settings)",
        )],
        responses={200: s.SubmissionSerializer, **s.error_responses(400, 404)},
    )
    def get(self, request, submission_id: int):
        try:
            wait = wait_seconds(request.query_params.get("wait"))
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
        submission = practice_selectors.submission_for_learner(
            learner=request.user, submission_id=submission_id, wait=wait
        )
        return Response(s.SubmissionSerializer(practice_submission_view(submission)).data)
