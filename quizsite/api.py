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
from questions import selectors, services
from questions.models import Difficulty, Topic

from .presenters import numeric_item_view, submission_view


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain refusals become 400 with a message (and per-cell details); 404s stay 404."""
    if isinstance(exc, services.AnswerFormatError):
        return Response(
            {"detail": exc.message, "format_errors": exc.details}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, services.ServiceUnavailable):
        return Response({"detail": exc.message}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, services.ServiceError):
        return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
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


class ItemSchema(serializers.Serializer):
    """A practice item as a learner sees it: never the answer key."""

    id = serializers.IntegerField()
    type = serializers.CharField()
    kind = serializers.CharField()
    difficulty = serializers.CharField()
    prompt = serializers.CharField(help_text="Markdown with $LaTeX$")
    params = serializers.DictField(help_text="The variant's inputs (matrices as lists of rows)")
    parts = serializers.ListField(child=serializers.DictField(), help_text="What to answer: name, label, shape")


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
    kind = serializers.CharField(max_length=64)
    difficulty = serializers.ChoiceField(choices=Difficulty.values, default=Difficulty.MEDIUM)


class PracticeItemCreate(APIView):
    @extend_schema(request=PracticeItemRequest, responses={201: ItemSchema})
    def post(self, request):
        body = PracticeItemRequest(data=request.data)
        body.is_valid(raise_exception=True)
        item = services.practice_item_create_numeric(learner=request.user, **body.validated_data)
        return Response(numeric_item_view(item), status=status.HTTP_201_CREATED)


class PracticeItemDetail(APIView):
    @extend_schema(responses=ItemSchema)
    def get(self, request, item_id: int):
        item = selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
        return Response(numeric_item_view(item))


class SubmissionRequest(serializers.Serializer):
    answer = serializers.DictField(help_text="Part name -> a number, a list, a list of lists, or the text as typed.")


class SubmissionCreate(APIView):
    @extend_schema(
        request=SubmissionRequest,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={202: SubmissionSchema},
    )
    def post(self, request, item_id: int):
        item = selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
        body = SubmissionRequest(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and len(key) > 128:
            return Response({"detail": "Idempotency-Key is longer than 128 characters."}, status=400)
        created = services.submission_create(
            learner=request.user, item=item, answer=body.validated_data["answer"], idempotency_key=key
        )
        # A replay with the same key answers like the original request, with the same submission.
        return Response(submission_view(created.submission), status=status.HTTP_202_ACCEPTED)


class SubmissionDetail(APIView):
    @extend_schema(responses=SubmissionSchema)
    def get(self, request, submission_id: int):
        submission = selectors.submission_for_learner(learner=request.user, submission_id=submission_id)
        return Response(submission_view(submission))
