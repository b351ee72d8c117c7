"""The JSON API (v1). Views parse, call a service or selector, and serialise a presenter's view."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from attention_engine import api as engine
from questions import errors as errors
from questions.catalogue.models import Difficulty, Topic
from questions.learning import rules as learning_rules
from questions.learning import selectors as learning_selectors
from questions.learning import services as learning_services
from questions.practice import selectors as practice_selectors
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem

from .presenters import item_view, submission_view


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain refusals become their status (`ServiceError.status`) with a message, and per-cell
    details for unreadable answers; 404s stay 404."""
    if isinstance(exc, errors.AnswerFormatError):
        return Response(
            {"detail": exc.message, "format_errors": exc.details}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, errors.ServiceError):  # 400; 409 for a closed attempt; 503 worker down
        return Response({"detail": exc.message}, status=exc.status)
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)


class ObtainToken(ObtainAuthToken):
    """POST username and password, get `{"token": ...}` for `Authorization: Token ...`."""

    renderer_classes = APIView.renderer_classes


class TopicList(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Topic",
            {
                "slug": serializers.CharField(),
                "title": serializers.CharField(),
                "description": serializers.CharField(),
                "kinds": serializers.ListField(child=serializers.CharField()),
            },
            many=True,
        )
    )
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
        return Response(topics)


class KindSchema(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    topics = serializers.ListField(child=serializers.CharField())
    difficulties = serializers.ListField(child=serializers.CharField())


class HintCountSchema(serializers.Serializer):
    revealed = serializers.IntegerField(help_text="Rungs of the hint ladder opened so far")
    total = serializers.IntegerField(help_text="Rungs the ladder has")


class ItemSchema(serializers.Serializer):
    """A practice item as a learner sees it: never the answer key.

    `type` is `numeric` (an engine-made variant: `kind`, `params`, `parts`; answer with
    `{"answer": {part: value}}`) or `theory` (a bank question: `question_type` and, by type,
    `choices`, `lefts`/`rights`, `items` or `unit`; answer with `{"answer": {"response": ...}}`).
    """

    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=["numeric", "theory"])
    purpose = serializers.ChoiceField(choices=["practice", "review"])
    prompt = serializers.CharField(help_text="Markdown with $LaTeX$")
    difficulty = serializers.CharField()
    hints = HintCountSchema()
    kind = serializers.CharField(required=False, help_text="numeric: the problem kind")
    params = serializers.DictField(required=False, help_text="numeric: the variant's inputs (matrices as lists of rows)")
    parts = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="numeric: what to answer: name, label, shape"
    )
    slug = serializers.CharField(required=False, help_text="theory: the question")
    title = serializers.CharField(required=False)
    question_type = serializers.CharField(
        required=False,
        help_text="theory: single_choice, multiple_response, true_false, numeric, short_answer, matching, ordering",
    )
    topic = serializers.CharField(required=False)
    version = serializers.IntegerField(required=False)
    choices = serializers.ListField(child=serializers.CharField(), required=False, help_text="answer with indices")
    lefts = serializers.ListField(child=serializers.CharField(), required=False)
    rights = serializers.ListField(child=serializers.CharField(), required=False)
    items = serializers.ListField(child=serializers.CharField(), required=False, help_text="answer with the texts in order")
    unit = serializers.CharField(required=False, allow_null=True)


def item_body(item: PracticeItem) -> dict[str, Any]:
    """An item as the API returns it: the presenter's view, its purpose and its hint count."""
    ladder = learning_rules.hint_ladder(item)
    return {
        **item_view(item),
        "purpose": item.purpose,
        "hints": {"revealed": len(ladder.revealed), "total": ladder.total},
    }


class SubmissionSchema(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["pending", "graded", "invalid"])
    score = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()
    graded_at = serializers.DateTimeField(allow_null=True)
    parts = serializers.DictField(required=False, help_text="Per part: score, correct, cells, message")
    feedback = serializers.CharField(required=False)
    misconception = serializers.CharField(required=False, allow_null=True)
    misconception_message = serializers.CharField(required=False, allow_null=True)
    format_errors = serializers.ListField(child=serializers.DictField(), required=False)


class KindList(APIView):
    @extend_schema(responses=KindSchema(many=True))
    def get(self, request):
        return Response(engine.list_kinds())


class PracticeItemRequest(serializers.Serializer):
    """Either a problem kind (and a difficulty) or a topic: exactly one of `kind` and `topic`."""

    kind = serializers.CharField(max_length=64, required=False, help_text="A fresh numeric variant of this kind")
    difficulty = serializers.ChoiceField(
        choices=Difficulty.values, required=False, help_text="With `kind` only; medium when left out"
    )
    topic = serializers.SlugField(
        max_length=64, required=False,
        help_text="The topic's next item: theory questions and fresh numeric variants interleaved",
    )



class PracticeItemCreate(APIView):
    @extend_schema(request=PracticeItemRequest, responses={201: ItemSchema})
    def post(self, request):
        body = PracticeItemRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if ("kind" in data) == ("topic" in data):
            raise errors.ServiceError('Give exactly one of "kind" and "topic".')
        if "topic" in data and "difficulty" in data:
            raise errors.ServiceError('"difficulty" goes with "kind"; a topic chooses its own.')
        if "topic" in data:
            topics = learning_selectors.practice_run_topics(slugs=[data["topic"]])
            item = learning_services.practice_item_create_for_topics(learner=request.user, topic_slugs=topics, turn=0)
        else:
            item = practice_services.practice_item_create_numeric(
                learner=request.user, kind=data["kind"], difficulty=data.get("difficulty", Difficulty.MEDIUM)
            )
        return Response(item_body(item), status=status.HTTP_201_CREATED)


class PracticeItemDetail(APIView):
    @extend_schema(responses=ItemSchema)
    def get(self, request, item_id: int):
        item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
        return Response(item_body(item))


class HintRequest(serializers.Serializer):
    rung = serializers.IntegerField(
        min_value=1, required=False,
        help_text="The rung to open (1-based); an open rung changes nothing. Left out: the next one.",
    )


class HintSchema(serializers.Serializer):
    rung = serializers.IntegerField()
    title = serializers.CharField()
    text = serializers.CharField(help_text="Markdown with $LaTeX$")


class HintLadderSchema(serializers.Serializer):
    revealed = serializers.IntegerField()
    total = serializers.IntegerField()
    next_rung = serializers.IntegerField(allow_null=True, help_text="null once every rung is open")
    hints = HintSchema(many=True, help_text="The open rungs, in order")


class HintReveal(APIView):
    """Open a rung of the item's hint ladder. Hints never cost marks or count as an answer; a
    right answer after one is rated Hard for spaced repetition. Returns the open rungs."""

    @extend_schema(request=HintRequest, responses={200: HintLadderSchema})
    def post(self, request, item_id: int):
        item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
        body = HintRequest(data=request.data)
        body.is_valid(raise_exception=True)
        ladder = learning_services.hint_reveal(learner=request.user, item=item, rung=body.validated_data.get("rung"))
        return Response(ladder.to_dict())


class ReviewCardSchema(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.ChoiceField(choices=["question", "kind"])
    kind = serializers.CharField(allow_null=True)
    difficulty = serializers.CharField(allow_null=True, help_text="kind cards: the difficulty of the next variant")
    question = serializers.CharField(allow_null=True, help_text="question cards: the question's slug")
    topic = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    due = serializers.DateTimeField()
    stability_days = serializers.FloatField(allow_null=True)
    reps = serializers.IntegerField()
    lapses = serializers.IntegerField()
    last_rating = serializers.IntegerField(allow_null=True, help_text="1 Again, 2 Hard, 3 Good, 4 Easy")


class ReviewsSchema(serializers.Serializer):
    due = serializers.IntegerField(help_text="Cards due now")
    due_later_today = serializers.IntegerField()
    cards = ReviewCardSchema(many=True, help_text="The cards due now, most overdue first")


class ReviewList(APIView):
    @extend_schema(responses=ReviewsSchema)
    def get(self, request):
        cards = learning_selectors.reviews_due_list(learner=request.user)
        counts = learning_selectors.review_counts(learner=request.user)
        return Response({"due": len(cards), "due_later_today": counts.due_later_today, "cards": cards})


class ReviewNext(APIView):
    """The item for the most overdue card: 201 when made now, 200 when the same card's item is
    still unanswered (asking twice gives one review), 409 when nothing is due."""

    @extend_schema(request=None, responses={201: ItemSchema, 200: ItemSchema, 409: inline_serializer(
        "NothingDue", {"detail": serializers.CharField()})})
    def post(self, request):
        started = learning_services.review_item_next(learner=request.user)
        if started is None:
            return Response({"detail": "No reviews are due right now."}, status=status.HTTP_409_CONFLICT)
        return Response(
            item_body(started.item), status=status.HTTP_201_CREATED if started.created else status.HTTP_200_OK
        )


class SubmissionRequest(serializers.Serializer):
    answer = serializers.DictField(help_text="Part name -> a number, a list, a list of lists, or the text as typed.")


class SubmissionCreate(APIView):
    @extend_schema(
        request=SubmissionRequest,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={202: SubmissionSchema},
    )
    def post(self, request, item_id: int):
        item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
        body = SubmissionRequest(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and len(key) > 128:
            return Response({"detail": "Idempotency-Key is longer than 128 characters."}, status=400)
        created = practice_services.submission_create(
            learner=request.user, item=item, answer=body.validated_data["answer"], idempotency_key=key
        )
        # A replay with the same key answers like the original request, with the same submission.
        return Response(submission_view(created.submission), status=status.HTTP_202_ACCEPTED)


class SubmissionDetail(APIView):
    @extend_schema(responses=SubmissionSchema)
    def get(self, request, submission_id: int):
        submission = practice_selectors.submission_for_learner(learner=request.user, submission_id=submission_id)
        return Response(submission_view(submission))
