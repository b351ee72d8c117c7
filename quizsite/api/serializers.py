"""What the JSON API sends and accepts: the serializers every API view answers through, so the
OpenAPI schema (/api/schema/) is exactly what leaves the server.

Response serializers render a presenter's view (`presenters`, `quiz_presenters`): the presenter
decides what is shown, and a field the view left out stays out (a key or a score never appears
because a serializer declared it). A key no serializer declares is dropped and logged; with
`STRICT` (the API tests turn it on) it is an error, so the schema cannot fall behind the views.
Request serializers carry the limits the services enforce, so a request the schema calls valid
is not refused and an invalid one is a 400, never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from questions.catalogue.models import Difficulty
from questions.courses import rules as courses_rules
from questions.courses.models import Membership, Quiz, QuizAttempt, RegradeRun
from questions.practice.models import Purpose, Submission

log = logging.getLogger(__name__)

STRICT = False  # True: a view key that no serializer declares raises instead of being dropped

MAX_IDEMPOTENCY_KEY = 128  # the Submission.idempotency_key column


class ViewSerializer(serializers.Serializer):
    """Renders a view (a mapping) field by field; a field the view does not hold is left out.

    `required=False` marks the fields a view may leave out (the schema marks the rest required).
    """

    def to_representation(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        fields = self.fields
        undeclared = set(instance) - set(fields)
        if undeclared:
            message = f"{type(self).__name__} does not declare {sorted(undeclared)}"
            if STRICT:
                raise KeyError(message)
            log.error("api: %s; dropped", message)
        shown: dict[str, Any] = {}
        for name, field in fields.items():
            if field.write_only:
                continue
            if name not in instance:
                if field.required:
                    message = f"{type(self).__name__}: the view has no {name!r}"
                    if STRICT:
                        raise KeyError(message)
                    log.error("api: %s", message)
                continue
            value = instance[name]
            shown[name] = None if value is None else field.to_representation(value)
        return shown


# --- Request fields: JSON types as the schema states them --------------------------------------
# DRF's own fields coerce ("5" is an integer, 0 a string, "yes" a boolean); a request the schema
# calls malformed must be refused, so request serializers use these.


class Text(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Slug(serializers.SlugField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Integer(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class Number(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class Boolean(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class Choice(serializers.ChoiceField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


# --- Errors ------------------------------------------------------------------------------------


class FormatErrorSerializer(ViewSerializer):
    """An unreadable answer, cell by cell (0-based row and col; null or absent: the whole part)."""

    part = serializers.CharField()
    row = serializers.IntegerField(allow_null=True, required=False)
    col = serializers.IntegerField(allow_null=True, required=False)
    message = serializers.CharField()


class ErrorSerializer(ViewSerializer):
    """Every refusal: a message to show; per-cell details for an unreadable answer; per-field
    details for a body that does not match the request schema."""

    detail = serializers.CharField()
    format_errors = FormatErrorSerializer(many=True, help_text="An unreadable answer: what could not be read", required=False)
    errors = serializers.JSONField(help_text="A malformed body: the messages per field, as the fields nest", required=False)


_ERROR_TEXT = {
    202: "Not ready: the worker is preparing it; repeat the request after Retry-After seconds (nothing was stored)",
    400: "Refused: the message says why (nothing was changed)",
    401: "No or wrong credentials",
    403: "Signed in, but the role (or a session's CSRF check) does not allow this",
    404: "No such object, or not one the caller may see",
    409: "The attempt is over: the answer was not stored",
    415: "The body is not JSON",
    503: "The worker did not answer in time; try again",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """`ErrorSerializer` for each status (401 and 403 always: every operation needs a sign-in)."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_ERROR_TEXT[code])
        for code in sorted({401, 403, *codes})
    }


# --- Catalogue ---------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = Text(write_only=True)
    password = Text(write_only=True, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(ViewSerializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`")


class TopicSerializer(ViewSerializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    kinds = serializers.ListField(child=serializers.CharField(), help_text="Problem kinds practised in this topic")


class KindSerializer(ViewSerializer):
    name = serializers.CharField()
    title = serializers.CharField()
    topics = serializers.ListField(child=serializers.CharField())
    difficulties = serializers.ListField(child=serializers.ChoiceField(choices=Difficulty.values))
    answer_type = serializers.ChoiceField(
        choices=["numeric", "code"],
        help_text='numeric: answer with numbers per part; code: answer with {"code": "..."}, run in a sandbox')
    framework = serializers.ChoiceField(choices=["numpy", "torch"], help_text="code kinds: the library the code uses",
                                        required=False)


# --- Items -------------------------------------------------------------------------------------


class ToleranceSerializer(ViewSerializer):
    """A typed value g matches the key k when |g - k| <= abs + rel * |k|."""

    rel = serializers.FloatField()
    abs = serializers.FloatField()


class PartSerializer(ViewSerializer):
    """One answer box of a numeric item."""

    name = serializers.CharField()
    label = serializers.CharField()
    shape = serializers.ListField(child=serializers.IntegerField(), help_text="[] scalar, [n] vector, [rows, cols] matrix")
    step = serializers.IntegerField(help_text="The step of the worked solution it belongs to")
    tolerance = ToleranceSerializer()
    weight = serializers.FloatField(help_text="The part's share of the score", required=False)


class ChoiceSerializer(ViewSerializer):
    id = serializers.CharField(help_text="Names the option in an answer (this item's own id, not a position)")
    text = serializers.CharField(help_text="Markdown with $LaTeX$")


class CodeValueSerializer(ViewSerializer):
    """An input or expected array: its values (lists nested to `shape`), `shape`, `dtype`; a
    boolean mask has `bool` instead of `array`; non-finite entries are listed in `nonfinite` as
    [index..., "inf" | "-inf" | "nan"] (their place in `array` holds 0)."""

    array = serializers.JSONField(required=False)
    bool = serializers.JSONField(required=False)
    shape = serializers.ListField(child=serializers.IntegerField())
    dtype = serializers.CharField(required=False)
    nonfinite = serializers.ListField(child=serializers.JSONField(), required=False)


class NamedShapeSerializer(ViewSerializer):
    name = serializers.CharField()
    shape = serializers.CharField(help_text='dtype and shape, e.g. "float64 (2, 3, 4)"')


class CodeExampleSerializer(ViewSerializer):
    """A visible test: the call's arguments in the signature's order and what it must return."""

    name = serializers.CharField()
    description = serializers.CharField()
    dtype = serializers.CharField(help_text="The dtype of the float inputs; torch code must keep it")
    inputs = serializers.DictField(child=serializers.JSONField(), help_text="Argument name -> a value (CodeValue for arrays)")
    init = serializers.DictField(child=serializers.JSONField(), required=False, help_text="module kinds: constructor arguments")
    state = serializers.DictField(child=CodeValueSerializer(), required=False,
                                  help_text="module kinds: the weights loaded into the module (state_dict)")
    expected = CodeValueSerializer(many=True, help_text="The returned values, in order")
    input_shapes = NamedShapeSerializer(many=True)
    expected_shapes = serializers.ListField(child=serializers.CharField())


class HiddenTestSerializer(ViewSerializer):
    name = serializers.CharField()
    description = serializers.CharField()


class ItemSerializer(ViewSerializer):
    """An item as its learner sees it before answering: never the answer key.

    `type` is `numeric` (an engine-made variant: `kind`, `params`, `parts`; answer with
    `{"answer": {part: value}}`), `code` (an engine-made code exercise: `entry_point`,
    `signature`, `starter_code`, `examples`; answer with `{"answer": {"code": "..."}}`, try the
    examples first with `POST /api/v1/practice/items/{id}/run`) or `theory` (a bank question:
    `question_type` and, by type, `choices`, `lefts`/`rights`, `items` or `unit`; answer with
    `{"answer": {"response": ...}}`).
    """

    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=["numeric", "code", "theory"])
    prompt = serializers.CharField(help_text="Markdown with $LaTeX$")
    difficulty = serializers.CharField()
    # numeric
    kind = serializers.CharField(help_text="numeric: the problem kind", required=False)
    kind_title = serializers.CharField(help_text="numeric: the kind's title", required=False)
    params = serializers.DictField(help_text="numeric: the variant's inputs (matrices as lists of rows)", required=False)
    parts = PartSerializer(many=True, help_text="numeric: what to answer", required=False)
    # code
    framework = serializers.ChoiceField(choices=["numpy", "torch"], required=False,
                                        help_text="code: the library the code uses")
    entry_point = serializers.CharField(required=False, help_text="code: the function or class the tests call")
    signature = serializers.CharField(required=False, help_text="code: its signature")
    starter_code = serializers.CharField(required=False, help_text="code: where to start")
    returns = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="code: the names of the returned values, in order")
    examples = CodeExampleSerializer(many=True, required=False, help_text="code: the visible tests")
    hidden_tests = HiddenTestSerializer(many=True, required=False,
                                        help_text="code: the tests run on Submit, by name only")
    # theory
    title = serializers.CharField(help_text="theory: the question's title", required=False)
    question_type = serializers.ChoiceField(
        choices=["single_choice", "multiple_response", "true_false", "numeric", "short_answer", "matching", "ordering"],
        help_text="theory: how to answer", required=False)
    hint_count = serializers.IntegerField(help_text="theory: the question's own hints", required=False)
    topic = serializers.CharField(help_text="theory: the topic's slug", required=False)
    topic_title = serializers.CharField(required=False)
    choices = ChoiceSerializer(
        many=True, help_text="choice questions: the options, in this item's order; answer with their ids",
        required=False)
    lefts = serializers.ListField(child=serializers.CharField(), help_text="matching: the items to match", required=False)
    rights = serializers.ListField(child=serializers.CharField(), help_text="matching: the answers offered", required=False)
    items = serializers.ListField(child=serializers.CharField(), help_text="answer with the texts in order", required=False)
    unit = serializers.CharField(allow_null=True, help_text="theory numeric: the unit, if any", required=False)


class HintCountSerializer(ViewSerializer):
    revealed = serializers.IntegerField(help_text="Rungs of the hint ladder opened so far")
    total = serializers.IntegerField(help_text="Rungs the ladder has")


class PracticeItemSerializer(ItemSerializer):
    purpose = serializers.ChoiceField(choices=Purpose.values)
    hints = HintCountSerializer()


class HintSerializer(ViewSerializer):
    rung = serializers.IntegerField()
    title = serializers.CharField()
    text = serializers.CharField(help_text="Markdown with $LaTeX$")


class HintLadderSerializer(ViewSerializer):
    revealed = serializers.IntegerField()
    total = serializers.IntegerField()
    next_rung = serializers.IntegerField(allow_null=True, help_text="null once every rung is open")
    hints = HintSerializer(many=True, help_text="The open rungs, in order")


class PracticeItemRequest(serializers.Serializer):
    """Either a problem kind (and a difficulty) or a topic: exactly one of `kind` and `topic`."""

    kind = Text(max_length=64, required=False, help_text="A fresh numeric variant of this kind")
    difficulty = Choice(
        choices=Difficulty.values, required=False, help_text="With `kind` only; medium when left out"
    )
    topic = Slug(
        max_length=64, required=False,
        help_text="The topic's next item: theory questions and fresh numeric variants interleaved",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("kind" in data) == ("topic" in data):
            raise serializers.ValidationError('Give exactly one of "kind" and "topic".')
        if "topic" in data and "difficulty" in data:
            raise serializers.ValidationError('"difficulty" goes with "kind"; a topic chooses its own.')
        return data


class HintRequest(serializers.Serializer):
    rung = Integer(
        min_value=1, required=False,
        help_text="The rung to open (1-based); an open rung changes nothing. Left out: the next one.",
    )


# --- Submissions -------------------------------------------------------------------------------


class PartResultSerializer(ViewSerializer):
    """How one part was graded."""

    score = serializers.FloatField()
    weight = serializers.FloatField(required=False)
    correct = serializers.BooleanField()
    cells = serializers.JSONField(allow_null=True, help_text="Right or wrong per cell, in the part's shape; null for a scalar")
    expected_shape = serializers.ListField(child=serializers.IntegerField())
    message = serializers.CharField(allow_blank=True)
    carried_forward = serializers.BooleanField(help_text="Graded against the learner's earlier answer", required=False)


class MarkedCellSerializer(ViewSerializer):
    value = serializers.CharField(help_text="The learner's number, printed")
    ok = serializers.BooleanField()


class AnswerCellsSerializer(ViewSerializer):
    """A part of the learner's own answer, each cell marked right or wrong."""

    name = serializers.CharField()
    label = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    weight = serializers.FloatField(help_text="The part's weight in the score (the engine's)")
    share = serializers.IntegerField(help_text="The part's weight as a percentage of the score")
    message = serializers.CharField(allow_blank=True)
    rows = serializers.ListField(child=MarkedCellSerializer(many=True))


class CarriedForwardSerializer(ViewSerializer):
    label = serializers.CharField()
    message = serializers.CharField()


class StepValueSerializer(ViewSerializer):
    name = serializers.CharField()
    shape = serializers.ChoiceField(choices=["scalar", "vector", "matrix"])
    rows = serializers.ListField(child=serializers.ListField(child=serializers.CharField()), help_text="Printed cells")


class WorkedStepSerializer(ViewSerializer):
    title = serializers.CharField()
    text = serializers.CharField(help_text="Markdown with $LaTeX$")
    values = StepValueSerializer(many=True)


class MapCellSerializer(ViewSerializer):
    value = serializers.CharField()
    masked = serializers.BooleanField()


class MapRowSerializer(ViewSerializer):
    label = serializers.CharField()
    cells = MapCellSerializer(many=True)


class AttentionMapSerializer(ViewSerializer):
    """Attention weights to draw as a heatmap: the learner's (`mine`) or the key's (`key`)."""

    id = serializers.ChoiceField(choices=["mine", "key"])
    title = serializers.CharField()
    matrix = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))
    table = MapRowSerializer(many=True)
    row_labels = serializers.ListField(child=serializers.CharField())
    col_labels = serializers.ListField(child=serializers.CharField())
    masked = serializers.ListField(
        child=serializers.ListField(child=serializers.BooleanField()), allow_null=True,
        help_text="Where a mask forced the weight to 0; null without a mask",
    )
    row_axis = serializers.CharField()
    col_axis = serializers.CharField()


class CodeTestResultSerializer(ViewSerializer):
    name = serializers.CharField()
    description = serializers.CharField(required=False)
    passed = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True, help_text="Shape, dtype, largest error and where, or what was raised")
    hidden = serializers.BooleanField(help_text="A hidden test (its inputs are not shown)")


class CodeErrorSerializer(ViewSerializer):
    status = serializers.CharField(help_text="syntax_error, import_error, refused, timeout, output_limit, memory, crashed")
    message = serializers.CharField(allow_blank=True)
    line = serializers.IntegerField(allow_null=True)


class CodeRunSerializer(ViewSerializer):
    """The visible examples run on the learner's code ("Run examples"): nothing is stored."""

    score = serializers.FloatField(help_text="The share of examples passed")
    tests = CodeTestResultSerializer(many=True)
    tests_passed = serializers.IntegerField(help_text="How many examples passed")
    feedback = serializers.CharField(allow_blank=True)
    misconception = serializers.CharField(allow_null=True)
    misconception_message = serializers.CharField(allow_null=True)
    format_errors = FormatErrorSerializer(many=True)
    error = CodeErrorSerializer(allow_null=True, required=False)
    output = serializers.CharField(allow_blank=True, help_text="What the code printed (the last 2,000 characters)")
    seconds = serializers.FloatField(required=False, help_text="How long the sandbox ran")


class CodeRunRequest(serializers.Serializer):
    code = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="The code to run on the examples")


class SubmissionResultSerializer(ViewSerializer):
    """What grading tells the learner; every field only once the submission is graded."""

    parts = serializers.DictField(child=PartResultSerializer(), help_text="Per part name (numeric)", required=False)
    feedback = serializers.CharField(allow_blank=True, required=False)
    misconception = serializers.CharField(allow_null=True, help_text="The named mistake the answer matches", required=False)
    misconception_message = serializers.CharField(allow_null=True, required=False)
    format_errors = FormatErrorSerializer(many=True, required=False)
    answer_cells = AnswerCellsSerializer(many=True, help_text="numeric, graded", required=False)
    carried_forward = CarriedForwardSerializer(many=True, help_text="numeric, graded: parts graded against the learner's earlier answer", required=False)
    worked_solution = WorkedStepSerializer(many=True, help_text="numeric, graded, once the key may be shown", required=False)
    attention_maps = AttentionMapSerializer(many=True, help_text="numeric, graded, once the key may be shown", required=False)
    source = serializers.CharField(allow_blank=True, help_text="theory: where to read more", required=False)
    tests = CodeTestResultSerializer(many=True, help_text="code, graded: one result per test", required=False)
    tests_passed = serializers.IntegerField(required=False, help_text="code, graded: how many tests passed")
    try_again = serializers.BooleanField(
        required=False, help_text="practice theory: missed, and the key is held back until the tries are used or "
                                  "asked for (POST practice/items/{id}/answer-key)")
    tries_allowed = serializers.IntegerField(required=False, help_text="practice theory: wrong tries before the key")
    choice_marks = serializers.DictField(
        child=serializers.ChoiceField(choices=["right", "wrong"]), required=False,
        help_text="practice theory, choice questions: the options chosen, by id, marked (right only once the key is due)")
    error = CodeErrorSerializer(allow_null=True, required=False,
                                help_text="code: why the code could not run its tests, if so")
    code = serializers.CharField(allow_blank=True, required=False, help_text="code: the code as submitted")
    solution_code = serializers.CharField(required=False, help_text="code, graded, once the key may be shown")


class SubmissionSerializer(SubmissionResultSerializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Submission.Status.values)
    score = serializers.FloatField(allow_null=True)
    from_draft = serializers.BooleanField(
        help_text="Sent from what was typed but not submitted when the quiz attempt or mock interview ended"
    )
    created_at = serializers.DateTimeField()
    graded_at = serializers.DateTimeField(allow_null=True)


class SubmissionRequest(serializers.Serializer):
    answer = serializers.DictField(help_text="Part name -> a number, a list, a list of lists, or the text as typed.")


# --- Reviews -----------------------------------------------------------------------------------


class ReviewCardSerializer(ViewSerializer):
    id = serializers.IntegerField()
    subject = serializers.ChoiceField(choices=["question", "kind"])
    kind = serializers.CharField(allow_null=True)
    difficulty = serializers.CharField(allow_null=True, help_text="kind cards: the difficulty of the next variant")
    question = serializers.CharField(allow_null=True, help_text="question cards: an opaque id of the question")
    topic = serializers.CharField(allow_null=True)
    title = serializers.CharField(allow_blank=True)
    due = serializers.DateTimeField()
    stability_days = serializers.FloatField(allow_null=True)
    reps = serializers.IntegerField()
    lapses = serializers.IntegerField()
    last_rating = serializers.IntegerField(allow_null=True, help_text="1 Again, 2 Hard, 3 Good, 4 Easy")


class ReviewsSerializer(ViewSerializer):
    due = serializers.IntegerField(help_text="Cards due now")
    due_later_today = serializers.IntegerField()
    cards = ReviewCardSerializer(many=True, help_text="The cards due now, most overdue first")


# --- Courses -----------------------------------------------------------------------------------


class CourseSerializer(ViewSerializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.values)
    join_code = serializers.CharField(help_text="Instructors and TAs only", required=False)


class CourseRequest(serializers.Serializer):
    title = Text(max_length=200)


class JoinRequest(serializers.Serializer):
    code = Text(max_length=32, help_text="The course's join code (case and dashes do not matter)")


class MemberRequest(serializers.Serializer):
    username = Text(max_length=150)
    role = Choice(choices=Membership.Role.values)


class MemberSerializer(ViewSerializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.values)


# --- Quizzes -----------------------------------------------------------------------------------


class SectionRequest(serializers.Serializer):
    title = Text(max_length=200, required=False, default="", allow_blank=True)
    questions = serializers.ListField(
        child=Text(max_length=120), required=False, default=list, max_length=500,
        help_text="Bank question slugs: the pool to draw from",
    )
    kind = Text(max_length=64, required=False, default="", allow_blank=True,
                                 help_text="A problem kind (GET /api/v1/kinds) instead of questions")
    difficulty = Choice(
        choices=Difficulty.values, required=False, default="", allow_blank=True,
        help_text="With a kind only (medium when left out)",
    )
    draw = Integer(min_value=1, max_value=courses_rules.MAX_DRAW, default=1)
    points = Number(min_value=0.01, max_value=1000, default=1.0)


class QuizRequest(serializers.Serializer):
    title = Text(max_length=200)
    opens_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    closes_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                          help_text="After opens_at, and in the future")
    time_limit_seconds = Integer(required=False, allow_null=True, default=None, min_value=1,
                                                  max_value=courses_rules.MAX_TIME_LIMIT_SECONDS)
    attempts_allowed = Integer(min_value=0, max_value=courses_rules.MAX_ATTEMPTS, default=1, help_text="0: no limit")
    grading_method = Choice(choices=Quiz.GradingMethod.values, default=Quiz.GradingMethod.HIGHEST)
    penalty = Number(min_value=0.0, max_value=1.0, default=0.0,
                                     help_text="Fraction lost per earlier wrong try (immediate feedback only)")
    feedback_timing = Choice(
        choices=Quiz.FeedbackTiming.values, default=Quiz.FeedbackTiming.AFTER_SUBMISSION
    )
    shuffle = Boolean(default=False)
    certainty_based_marking = Boolean(default=False)
    sections = SectionRequest(many=True, allow_empty=False, max_length=courses_rules.MAX_SECTIONS)


class SectionSerializer(ViewSerializer):
    position = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    kind = serializers.CharField(allow_null=True)
    difficulty = serializers.CharField(allow_null=True)
    questions = serializers.ListField(child=serializers.CharField(), help_text="The pool's question slugs")
    draw = serializers.IntegerField()
    points = serializers.FloatField()


class QuizSerializer(ViewSerializer):
    id = serializers.IntegerField()
    course = serializers.IntegerField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=Quiz.State.values)
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    time_limit_seconds = serializers.IntegerField(allow_null=True)
    attempts_allowed = serializers.IntegerField(help_text="0: no limit")
    grading_method = serializers.ChoiceField(choices=Quiz.GradingMethod.values)
    penalty = serializers.FloatField()
    feedback_timing = serializers.ChoiceField(choices=Quiz.FeedbackTiming.values)
    shuffle = serializers.BooleanField()
    certainty_based_marking = serializers.BooleanField()
    max_score = serializers.FloatField()
    sections = SectionSerializer(many=True, help_text="Staff only", required=False)


class AttemptSummarySerializer(ViewSerializer):
    id = serializers.IntegerField()
    quiz = serializers.IntegerField()
    learner = serializers.CharField()
    number = serializers.IntegerField()
    state = serializers.ChoiceField(choices=QuizAttempt.State.values)
    started_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = serializers.ChoiceField(choices=QuizAttempt.SubmittedBy.values, allow_null=True)
    score = serializers.FloatField(allow_null=True, help_text="Null until it may be shown")
    original_score = serializers.FloatField(allow_null=True, help_text="Before a regrade; null until it may be shown")
    max_score = serializers.FloatField()


class QuizAnswerSerializer(SubmissionResultSerializer):
    """One try at a slot; the result fields only once feedback may be shown."""

    submission = serializers.IntegerField()
    answer = serializers.JSONField(help_text="As sent")
    certainty = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    graded = serializers.BooleanField()
    status = serializers.ChoiceField(choices=Submission.Status.values, required=False)
    score = serializers.FloatField(allow_null=True, required=False)
    graded_at = serializers.DateTimeField(allow_null=True, required=False)
    from_draft = serializers.BooleanField(
        help_text="Sent from what was typed but not submitted when the attempt ended", required=False
    )
    regraded_score = serializers.FloatField(help_text="The score a regrade gave this try", required=False)


class SolutionStepSerializer(ViewSerializer):
    title = serializers.CharField()
    text = serializers.CharField()
    values = serializers.DictField(help_text="Name -> a scalar, vector or matrix")


class KeySerializer(ViewSerializer):
    """The right answer, once keys may be shown: numeric (`answer`, `steps`), code (`solution`) or
    theory (by type)."""

    answer = serializers.JSONField(help_text="numeric: part -> value; true_false: true or false", required=False)
    steps = SolutionStepSerializer(many=True, help_text="numeric: the worked solution", required=False)
    correct_choices = serializers.ListField(
        child=serializers.CharField(), help_text="choice questions: the ids of the right options", required=False)
    answers = serializers.ListField(child=serializers.JSONField(), help_text="numeric and short answer: the accepted ones", required=False)
    pairs = serializers.DictField(child=serializers.CharField(), help_text="matching: item -> answer", required=False)
    order = serializers.ListField(child=serializers.CharField(), required=False)
    explanation = serializers.CharField(allow_blank=True, required=False)
    source = serializers.CharField(allow_blank=True, required=False)
    solution = serializers.CharField(required=False, help_text="code: a model solution")


class SlotSerializer(ViewSerializer):
    position = serializers.IntegerField()
    points = serializers.FloatField()
    item = ItemSerializer()
    answers = QuizAnswerSerializer(many=True)
    slot = serializers.IntegerField(help_text="Staff: the slot before shuffling", required=False)
    mark = serializers.FloatField(allow_null=True, help_text="Once feedback may be shown", required=False)
    original_mark = serializers.FloatField(allow_null=True, help_text="Before a regrade", required=False)
    regrade_note = serializers.CharField(required=False)
    key = KeySerializer(required=False)


class AttemptSerializer(ViewSerializer):
    id = serializers.IntegerField()
    quiz = serializers.IntegerField()
    quiz_title = serializers.CharField()
    learner = serializers.CharField(allow_null=True, help_text="Staff only")
    number = serializers.IntegerField()
    is_preview = serializers.BooleanField()
    state = serializers.ChoiceField(choices=QuizAttempt.State.values)
    started_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = serializers.ChoiceField(choices=QuizAttempt.SubmittedBy.values, allow_null=True)
    max_score = serializers.FloatField()
    feedback_visible = serializers.BooleanField()
    keys_visible = serializers.BooleanField()
    certainty_based_marking = serializers.BooleanField()
    score = serializers.FloatField(allow_null=True, help_text="Only once feedback may be shown", required=False)
    original_score = serializers.FloatField(help_text="Before a regrade that changed it", required=False)
    regrade_note = serializers.CharField(required=False)
    slots = SlotSerializer(many=True)


class AnswerRequest(serializers.Serializer):
    answer = serializers.DictField(
        help_text='Numeric: part name -> value. Theory: {"response": ...} as the practice API takes it.'
    )
    certainty = Integer(required=False, allow_null=True, default=None, min_value=1, max_value=3,
                                         help_text="1, 2 or 3; required on certainty-based-marking quizzes")


class AnswerAcceptedSerializer(ViewSerializer):
    submission = serializers.IntegerField()
    position = serializers.IntegerField()
    certainty = serializers.IntegerField(allow_null=True)
    graded = serializers.BooleanField(help_text="False while the worker grades it; see GET /api/v1/attempts/{id}")
    attempt = serializers.IntegerField()


# --- Results -----------------------------------------------------------------------------------


class GradebookQuizSerializer(ViewSerializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    grading_method = serializers.ChoiceField(choices=Quiz.GradingMethod.values)
    max_score = serializers.FloatField()


class GradebookRowSerializer(ViewSerializer):
    learner = serializers.CharField()
    grades = serializers.ListField(child=serializers.FloatField(allow_null=True),
                                   help_text="Per quiz, in `quizzes` order; null: no scored attempt yet")
    attempts = serializers.ListField(child=serializers.IntegerField(), help_text="Attempts per quiz")


class GradebookSerializer(ViewSerializer):
    course = serializers.IntegerField()
    quizzes = GradebookQuizSerializer(many=True)
    rows = GradebookRowSerializer(many=True)


class StatisticsQuery(serializers.Serializer):
    attempts = serializers.ChoiceField(choices=["first", "all"], default="first",
                                       help_text="first (default, as Moodle) or all attempts")


def _stat(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text or None)


class QuestionStatisticsSerializer(ViewSerializer):
    """Moodle's statistics of one column (`questions.courses.statistics.QuestionStatistics`)."""

    index = serializers.IntegerField()
    max_mark = serializers.FloatField()
    s = serializers.IntegerField(help_text="Attempts that had this question")
    mean_mark = _stat()
    facility = _stat("Mean mark as a fraction of the max mark")
    sd = _stat()
    sd_marks = _stat()
    mark_variance = _stat()
    rest_variance = _stat()
    covariance = _stat()
    covariance_max = _stat()
    covariance_with_total = _stat()
    discrimination_index = _stat()
    discriminative_efficiency = _stat()
    effective_weight = _stat()


class SlotStatisticsSerializer(QuestionStatisticsSerializer):
    slot = serializers.IntegerField()
    section = serializers.IntegerField()
    section_title = serializers.CharField(allow_blank=True)
    label = serializers.CharField()
    title = serializers.CharField(help_text="The section's problem kind by its title, or \"Theory pool\"")


class DrawnQuestionStatisticsSerializer(QuestionStatisticsSerializer):
    section = serializers.IntegerField()
    label = serializers.CharField(help_text="A theory question's slug, or a numeric section's kind and difficulty")
    title = serializers.CharField(help_text="The question's title, or the kind's title and difficulty")


class QuizLevelStatisticsSerializer(ViewSerializer):
    attempt_count = serializers.IntegerField()
    question_count = serializers.IntegerField()
    max_total = serializers.FloatField()
    mean = _stat()
    median = _stat()
    sd = _stat()
    skewness = _stat()
    kurtosis = _stat()
    cronbach_alpha = _stat()
    error_ratio = _stat()
    standard_error = _stat()
    first_attempts_count = serializers.IntegerField(allow_null=True)
    first_attempts_mean = _stat()
    all_attempts_count = serializers.IntegerField()
    all_attempts_mean = _stat()


class AccuracyGroupSerializer(ViewSerializer):
    value = serializers.JSONField(help_text="The parameter's value")
    n = serializers.IntegerField()
    mean_fraction = serializers.FloatField()


class AccuracySerializer(ViewSerializer):
    kind = serializers.CharField()
    kind_title = serializers.CharField()
    difficulty = serializers.CharField()
    parameter = serializers.CharField()
    groups = AccuracyGroupSerializer(many=True)


class QuizStatisticsSerializer(ViewSerializer):
    attempts = serializers.ChoiceField(choices=["first", "all"])
    attempt_count = serializers.IntegerField()
    quiz = QuizLevelStatisticsSerializer(allow_null=True, help_text="null before any scored attempt")
    slots = SlotStatisticsSerializer(many=True)
    questions = DrawnQuestionStatisticsSerializer(many=True)
    accuracy_by_parameter = AccuracySerializer(many=True)


class RegradeChangeSerializer(ViewSerializer):
    attempt_id = serializers.IntegerField()
    attempt_number = serializers.IntegerField(help_text="The learner's own count: their attempt 1, 2 ...")
    learner = serializers.CharField()
    slot = serializers.IntegerField()
    position = serializers.IntegerField()
    question = serializers.CharField()
    old_mark = serializers.FloatField(allow_null=True)
    new_mark = serializers.FloatField(allow_null=True)
    against_version = serializers.IntegerField(allow_null=True)


class RegradeRunSerializer(ViewSerializer):
    id = serializers.IntegerField()
    quiz = serializers.IntegerField()
    state = serializers.ChoiceField(choices=RegradeRun.State.values)
    slots_total = serializers.IntegerField()
    slots_done = serializers.IntegerField()
    slots_changed = serializers.IntegerField()
    finished_at = serializers.DateTimeField(allow_null=True)
