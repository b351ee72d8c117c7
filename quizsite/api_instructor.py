"""The JSON API (v1) for courses and quizzes: instructors, teaching assistants and learners.

Views parse, call a service or selector from `questions.courses`, `questions.quizzes`,
`questions.gradebook` or `questions.regrade`, and serialise a `quiz_presenters` view.
Refusals: bad input 400 with a message; anything of a course the caller has no role in 404;
a role that may not do this (a learner on an instructor route, a TA on a write) 403.
"""

from __future__ import annotations

from dataclasses import asdict

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from questions.catalogue.models import Difficulty
from questions.courses import rules as courses_rules
from questions.courses import selectors as courses_selectors
from questions.courses import services as courses_services
from questions.courses.models import Membership, Quiz
from questions.courses.rules import STAFF_ROLES

from .quiz_presenters import attempt_summary, attempt_view, gradebook_view, quiz_view

# --- Schemas ------------------------------------------------------------------------------------


class CourseSchema(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.values)
    join_code = serializers.CharField(required=False, help_text="Instructors and TAs only")


class CourseRequest(serializers.Serializer):
    title = serializers.CharField(max_length=200)


class JoinRequest(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="The course's join code (case and dashes do not matter)")


class MemberRequest(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Membership.Role.values)


class SectionRequest(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    questions = serializers.ListField(
        child=serializers.CharField(max_length=120), required=False, default=list, max_length=500,
        help_text="Bank question slugs: the pool to draw from",
    )
    kind = serializers.CharField(max_length=64, required=False, default="", allow_blank=True,
                                 help_text="A problem kind (GET /api/v1/kinds) instead of questions")
    difficulty = serializers.ChoiceField(
        choices=Difficulty.values, required=False, default="", allow_blank=True,
        help_text="With a kind only (medium when left out)",
    )
    draw = serializers.IntegerField(min_value=1, max_value=courses_rules.MAX_DRAW, default=1)
    points = serializers.FloatField(min_value=0.01, max_value=1000, default=1.0)


class QuizRequest(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    opens_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    closes_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    time_limit_seconds = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    attempts_allowed = serializers.IntegerField(min_value=0, max_value=100, default=1, help_text="0: no limit")
    grading_method = serializers.ChoiceField(choices=Quiz.GradingMethod.values, default=Quiz.GradingMethod.HIGHEST)
    penalty = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.0,
                                     help_text="Fraction lost per earlier wrong try (immediate feedback)")
    feedback_timing = serializers.ChoiceField(
        choices=Quiz.FeedbackTiming.values, default=Quiz.FeedbackTiming.AFTER_SUBMISSION
    )
    shuffle = serializers.BooleanField(default=False)
    certainty_based_marking = serializers.BooleanField(default=False)
    sections = SectionRequest(many=True, allow_empty=False, max_length=courses_rules.MAX_SECTIONS)


class QuizSchema(serializers.Serializer):
    id = serializers.IntegerField()
    course = serializers.IntegerField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=Quiz.State.values)
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    time_limit_seconds = serializers.IntegerField(allow_null=True)
    attempts_allowed = serializers.IntegerField()
    grading_method = serializers.CharField()
    penalty = serializers.FloatField()
    feedback_timing = serializers.CharField()
    shuffle = serializers.BooleanField()
    certainty_based_marking = serializers.BooleanField()
    max_score = serializers.FloatField()
    sections = serializers.ListField(child=serializers.DictField(), required=False, help_text="Staff only")


class AttemptSummarySchema(serializers.Serializer):
    id = serializers.IntegerField()
    quiz = serializers.IntegerField()
    learner = serializers.CharField()
    number = serializers.IntegerField()
    state = serializers.CharField()
    started_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = serializers.CharField(allow_null=True)
    score = serializers.FloatField(allow_null=True, help_text="Null until it may be shown")
    original_score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField()


class AttemptSchema(serializers.Serializer):
    id = serializers.IntegerField()
    quiz = serializers.IntegerField()
    number = serializers.IntegerField()
    state = serializers.CharField()
    deadline = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = serializers.CharField(allow_null=True)
    feedback_visible = serializers.BooleanField()
    keys_visible = serializers.BooleanField()
    score = serializers.FloatField(required=False, allow_null=True, help_text="Only once feedback may be shown")
    regrade_note = serializers.CharField(required=False)
    slots = serializers.ListField(
        child=serializers.DictField(),
        help_text="position, points, item (never a key), answers; mark, feedback and key per the feedback timing",
    )


class AnswerRequest(serializers.Serializer):
    answer = serializers.DictField(
        help_text='Numeric: part name -> value. Theory: {"response": ...} as the practice API takes it.'
    )
    certainty = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=3,
                                         help_text="1, 2 or 3; required on certainty-based-marking quizzes")


AnswerSchema = inline_serializer(
    "QuizAnswer",
    {
        "submission": serializers.IntegerField(),
        "position": serializers.IntegerField(),
        "certainty": serializers.IntegerField(allow_null=True),
        "graded": serializers.BooleanField(),
        "attempt": serializers.IntegerField(),
    },
)

RegradeChangeSchema = inline_serializer(
    "RegradeChange",
    {
        "attempt_id": serializers.IntegerField(),
        "learner": serializers.CharField(),
        "slot": serializers.IntegerField(),
        "position": serializers.IntegerField(),
        "question": serializers.CharField(),
        "old_mark": serializers.FloatField(allow_null=True),
        "new_mark": serializers.FloatField(allow_null=True),
        "against_version": serializers.IntegerField(allow_null=True),
    },
    many=True,
)


class RegradeRunSchema(serializers.Serializer):
    id = serializers.IntegerField()
    quiz = serializers.IntegerField()
    state = serializers.CharField()
    slots_total = serializers.IntegerField()
    slots_done = serializers.IntegerField()
    slots_changed = serializers.IntegerField()
    finished_at = serializers.DateTimeField(allow_null=True)


def _course_view(course, role: str) -> dict:
    view = {"id": course.id, "title": course.title, "role": role}
    if role in STAFF_ROLES:
        view["join_code"] = course.join_code
    return view


def _run_view(run) -> dict:
    return {
        "id": run.id,
        "quiz": run.quiz_id,
        "state": run.state,
        "slots_total": run.slots_total,
        "slots_done": run.slots_done,
        "slots_changed": run.slots_changed,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def _valid(serializer_class, request):
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


# --- Courses -----------------------------------------------------------------------------------


class CourseListCreate(APIView):
    @extend_schema(responses=CourseSchema(many=True), summary="The caller's courses, with their role")
    def get(self, request):
        return Response([_course_view(c, c.role) for c in courses_selectors.courses_of(user=request.user)])

    @extend_schema(request=CourseRequest, responses={201: CourseSchema}, summary="Create a course (instructors)")
    def post(self, request):
        data = _valid(CourseRequest, request)
        course = courses_services.course_create(title=data["title"], instructor=request.user)
        return Response(_course_view(course, Membership.Role.INSTRUCTOR), status=status.HTTP_201_CREATED)


class CourseJoin(APIView):
    @extend_schema(request=JoinRequest, responses={200: CourseSchema}, summary="Join a course as a learner")
    def post(self, request):
        data = _valid(JoinRequest, request)
        membership = courses_services.course_join(user=request.user, code=data["code"])
        return Response(_course_view(membership.course, membership.role))


class CourseDetail(APIView):
    @extend_schema(responses=CourseSchema)
    def get(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        return Response(_course_view(course, courses_selectors.role_in(course=course, user=request.user)))


class CourseMembers(APIView):
    @extend_schema(request=MemberRequest, responses={200: MemberRequest},
                   summary="Give a user a role in the course (instructors)")
    def post(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        data = _valid(MemberRequest, request)
        user = get_user_model().objects.filter(username=data["username"]).first()
        if user is None:
            return Response({"detail": f"No user {data['username']!r}."}, status=status.HTTP_400_BAD_REQUEST)
        membership = courses_services.membership_set(course=course, actor=request.user, user=user, role=data["role"])
        return Response({"username": user.get_username(), "role": membership.role})


# --- Quizzes -----------------------------------------------------------------------------------


class CourseQuizzes(APIView):
    @extend_schema(responses=QuizSchema(many=True), summary="Quizzes of a course (learners: the open ones)")
    def get(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        staff = courses_selectors.role_in(course=course, user=request.user) in STAFF_ROLES
        return Response([quiz_view(q, staff=staff) for q in courses_selectors.quizzes_for(user=request.user, course=course)])

    @extend_schema(request=QuizRequest, responses={201: QuizSchema}, summary="Create a draft quiz from pools (instructors)")
    def post(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        data = _valid(QuizRequest, request)
        sections = [
            courses_rules.SectionSpec(
                draw=s["draw"], points=s["points"], title=s["title"], questions=tuple(s["questions"]),
                kind=s["kind"], difficulty=s["difficulty"],
            )
            for s in data.pop("sections")
        ]
        quiz = courses_services.quiz_create(course=course, actor=request.user, sections=sections, **data)
        return Response(quiz_view(quiz, staff=True), status=status.HTTP_201_CREATED)


class QuizDetail(APIView):
    @extend_schema(responses=QuizSchema)
    def get(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        staff = courses_selectors.role_in(course=quiz.course, user=request.user) in STAFF_ROLES
        return Response(quiz_view(quiz, staff=staff))


class QuizOpen(APIView):
    @extend_schema(request=None, responses=QuizSchema, summary="Open the quiz to learners (instructors)")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        return Response(quiz_view(courses_services.quiz_open(quiz=quiz, actor=request.user), staff=True))


class QuizClose(APIView):
    @extend_schema(request=None, responses=QuizSchema,
                   summary="Close the quiz now: attempts in progress are submitted (instructors)")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        return Response(quiz_view(courses_services.quiz_close_now(quiz=quiz, actor=request.user), staff=True))


class QuizAttempts(APIView):
    @extend_schema(responses=AttemptSummarySchema(many=True),
                   summary="Attempts: every learner's for staff, one's own for a learner")
    def get(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        if courses_selectors.role_in(course=quiz.course, user=request.user) in STAFF_ROLES:
            return Response([attempt_summary(a, feedback=True)
                             for a in courses_selectors.attempts_for_staff(quiz=quiz, user=request.user)])
        mine = courses_selectors.attempts_as_of(courses_selectors.attempts_of(learner=request.user, quiz=quiz))
        return Response([
            attempt_summary(a, feedback=courses_rules.feedback_visible(quiz=quiz, attempt=a).feedback) for a in mine
        ])

    @extend_schema(request=None, responses={201: AttemptSchema},
                   summary="Start an attempt (or get the one in progress)")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        return _attempt_started(courses_services.attempt_start(quiz=quiz, learner=request.user), request.user)


def _attempt_started(attempt, user) -> Response:
    """201 with the attempt (new, or the one in progress) as its taker sees it."""
    return Response(attempt_view(courses_selectors.attempt_review(attempt=attempt, viewer=user)), status=status.HTTP_201_CREATED)


class QuizPreview(APIView):
    @extend_schema(request=None, responses={201: AttemptSchema},
                   summary="Staff take their own quiz as a learner would: a preview attempt, not graded into anything")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        return _attempt_started(courses_services.attempt_preview_start(quiz=quiz, actor=request.user), request.user)


class AttemptDetail(APIView):
    @extend_schema(responses=AttemptSchema, summary="An attempt as its learner saw it (per the feedback timing)")
    def get(self, request, attempt_id: int):
        attempt = courses_selectors.attempt_for(user=request.user, attempt_id=attempt_id)
        return Response(attempt_view(courses_selectors.attempt_review(attempt=attempt, viewer=request.user)))


class AttemptAnswer(APIView):
    @extend_schema(
        request=AnswerRequest,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={202: AnswerSchema},
        summary="Answer the question at this position; graded by the worker",
    )
    def post(self, request, attempt_id: int, position: int):
        attempt = courses_selectors.attempt_for(user=request.user, attempt_id=attempt_id)
        if attempt.learner_id != request.user.id:
            raise Http404("No such attempt.")
        data = _valid(AnswerRequest, request)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and len(key) > 128:
            return Response({"detail": "Idempotency-Key is longer than 128 characters."}, status=400)
        accepted = courses_services.answer_submit(
            attempt=attempt, learner=request.user, position=position, answer=data["answer"],
            certainty=data["certainty"], idempotency_key=key,
        )
        submission = accepted.answer.submission
        return Response(
            {
                "submission": submission.id,
                "position": position,
                "certainty": accepted.answer.certainty,
                "graded": submission.status != "pending",
                "attempt": attempt.id,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class AttemptSubmit(APIView):
    @extend_schema(request=None, responses=AttemptSchema, summary="Hand the attempt in")
    def post(self, request, attempt_id: int):
        attempt = courses_selectors.attempt_for(user=request.user, attempt_id=attempt_id)
        attempt = courses_services.attempt_submit(attempt=attempt, learner=request.user)
        return Response(attempt_view(courses_selectors.attempt_review(attempt=attempt, viewer=request.user)))


# --- Results -----------------------------------------------------------------------------------


GradebookSchema = inline_serializer(
    "Gradebook",
    {
        "course": serializers.IntegerField(),
        "quizzes": serializers.ListField(child=serializers.DictField()),
        "rows": serializers.ListField(child=serializers.DictField(), help_text="learner, grades (per quiz), attempts"),
    },
)


class CourseGradebook(APIView):
    @extend_schema(responses=GradebookSchema, summary="Learners x quizzes (instructors and TAs)")
    def get(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        return Response(gradebook_view(courses_selectors.gradebook_for(course=course, user=request.user)))


class CourseGradebookCsv(APIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
                   summary="The gradebook as CSV (instructors and TAs)")
    def get(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        text = courses_rules.gradebook_csv(courses_selectors.gradebook_for(course=course, user=request.user))
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="gradebook-course-{course.id}.csv"'
        return response


class QuizStatistics(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("attempts", str, enum=["first", "all"], required=False,
                                     description="first (default, as Moodle) or all attempts")],
        responses=OpenApiTypes.OBJECT,
        summary="Item statistics per slot and per drawn question, Cronbach's alpha, accuracy by parameter",
    )
    def get(self, request, quiz_id: int):
        which = request.query_params.get("attempts", "first")
        if which not in ("first", "all"):
            return Response({"detail": "attempts must be 'first' or 'all'."}, status=status.HTTP_400_BAD_REQUEST)
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        return Response(courses_selectors.quiz_statistics(quiz=quiz, user=request.user, first_attempts_only=which == "first"))


class RegradePreview(APIView):
    @extend_schema(responses=RegradeChangeSchema,
                   summary="Which marks a regrade would change, old -> new (instructors and TAs)")
    def get(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        return Response([asdict(c) for c in courses_selectors.regrade_preview(quiz=quiz, user=request.user)])


class RegradeStart(APIView):
    @extend_schema(request=None, responses={202: RegradeRunSchema},
                   summary="Apply a regrade in batches on the worker (instructors)")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        run = courses_services.regrade_start(quiz=quiz, user=request.user)
        run.refresh_from_db()
        return Response(_run_view(run), status=status.HTTP_202_ACCEPTED)


class RegradeDetail(APIView):
    @extend_schema(responses=RegradeRunSchema)
    def get(self, request, run_id: int):
        return Response(_run_view(courses_selectors.regrade_run_for(user=request.user, run_id=run_id)))
