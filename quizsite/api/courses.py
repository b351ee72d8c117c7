"""The JSON API (v1) for courses and quizzes: instructors, teaching assistants and learners.

Views parse, call a service or selector from `questions.courses`, and answer through a
`quizsite.api.serializers` serializer rendering a `quiz_presenters` view.
Refusals: bad input 400 with a message; anything of a course the caller has no role in 404;
a role that may not do this (a learner on an instructor route, a TA on a write) 403.
"""

from __future__ import annotations

from dataclasses import asdict

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from questions import errors
from questions.courses import rules as courses_rules
from questions.courses import selectors as courses_selectors
from questions.courses import services as courses_services
from questions.courses.models import Membership
from questions.courses.rules import STAFF_ROLES

from ..quiz_presenters import attempt_summary, attempt_view, gradebook_view, quiz_view
from . import serializers as s
from .base import IDEMPOTENCY_KEY, JsonView, idempotency_key

INSTRUCTORS = (Membership.Role.INSTRUCTOR,)


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


def _attempt(attempt, user, *, status_code: int = status.HTTP_200_OK) -> Response:
    """The attempt as `user` may see it now."""
    view = attempt_view(courses_selectors.attempt_review(attempt=attempt, viewer=user))
    return Response(s.AttemptSerializer(view).data, status=status_code)


# --- Courses -----------------------------------------------------------------------------------


class CourseListCreate(JsonView):
    @extend_schema(responses={200: s.CourseSerializer(many=True), **s.error_responses()},
                   summary="The caller's courses, with their role")
    def get(self, request):
        views = [_course_view(c, c.role) for c in courses_selectors.courses_of(user=request.user)]
        return Response(s.CourseSerializer(views, many=True).data)

    @extend_schema(request=s.CourseRequest, responses={201: s.CourseSerializer, **s.error_responses(400, 415)},
                   summary="Create a course (instructors)")
    def post(self, request):
        data = _valid(s.CourseRequest, request)
        course = courses_services.course_create(title=data["title"], instructor=request.user)
        return Response(s.CourseSerializer(_course_view(course, Membership.Role.INSTRUCTOR)).data,
                        status=status.HTTP_201_CREATED)


class CourseJoin(JsonView):
    @extend_schema(request=s.JoinRequest, responses={200: s.CourseSerializer, **s.error_responses(400, 415)},
                   summary="Join a course as a learner")
    def post(self, request):
        data = _valid(s.JoinRequest, request)
        membership = courses_services.course_join(user=request.user, code=data["code"])
        return Response(s.CourseSerializer(_course_view(membership.course, membership.role)).data)


class CourseDetail(JsonView):
    @extend_schema(responses={200: s.CourseSerializer, **s.error_responses(404)})
    def get(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        view = _course_view(course, courses_selectors.role_in(course=course, user=request.user))
        return Response(s.CourseSerializer(view).data)


class CourseMembers(JsonView):
    @extend_schema(request=s.MemberRequest, responses={200: s.MemberSerializer, **s.error_responses(400, 404, 415)},
                   examples=[OpenApiExample("A teaching assistant", {"username": "ada", "role": "ta"},
                                            request_only=True)],
                   summary="Give a user a role in the course (instructors)")
    def post(self, request, course_id: int):
        # The role before the body: a learner gets 403 whatever they send.
        course = courses_selectors.course_for(user=request.user, course_id=course_id, roles=INSTRUCTORS)
        data = _valid(s.MemberRequest, request)
        user = get_user_model().objects.filter(username=data["username"]).first()
        if user is None:
            raise errors.ServiceError(f"No user {data['username']!r}.")
        membership = courses_services.membership_set(course=course, actor=request.user, user=user, role=data["role"])
        return Response(s.MemberSerializer({"username": user.get_username(), "role": membership.role}).data)


# --- Quizzes -----------------------------------------------------------------------------------


class CourseQuizzes(JsonView):
    @extend_schema(responses={200: s.QuizSerializer(many=True), **s.error_responses(404)},
                   summary="Quizzes of a course (learners: the open ones)")
    def get(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        staff = courses_selectors.role_in(course=course, user=request.user) in STAFF_ROLES
        views = [quiz_view(q, staff=staff) for q in courses_selectors.quizzes_for(user=request.user, course=course)]
        return Response(s.QuizSerializer(views, many=True).data)

    @extend_schema(request=s.QuizRequest, responses={201: s.QuizSerializer, **s.error_responses(400, 404, 415)},
                   examples=[OpenApiExample("Two pools", {
                       "title": "Week 1", "time_limit_seconds": 1800, "attempts_allowed": 2,
                       "sections": [{"title": "Theory", "questions": ["sdpa-why-divide-by-sqrt-dk"], "draw": 1},
                                    {"kind": "self_attention", "difficulty": "easy", "points": 2}],
                   }, request_only=True)],
                   summary="Create a draft quiz from pools (instructors)")
    def post(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id, roles=INSTRUCTORS)
        data = _valid(s.QuizRequest, request)
        sections = [
            courses_rules.SectionSpec(
                draw=section["draw"], points=section["points"], title=section["title"],
                questions=tuple(section["questions"]), kind=section["kind"], difficulty=section["difficulty"],
            )
            for section in data.pop("sections")
        ]
        quiz = courses_services.quiz_create(course=course, actor=request.user, sections=sections, **data)
        return Response(s.QuizSerializer(quiz_view(quiz, staff=True)).data, status=status.HTTP_201_CREATED)


class QuizDetail(JsonView):
    @extend_schema(responses={200: s.QuizSerializer, **s.error_responses(404)})
    def get(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        staff = courses_selectors.role_in(course=quiz.course, user=request.user) in STAFF_ROLES
        return Response(s.QuizSerializer(quiz_view(quiz, staff=staff)).data)


class QuizOpen(JsonView):
    @extend_schema(request=None, responses={200: s.QuizSerializer, **s.error_responses(400, 404)},
                   summary="Open the quiz to learners (instructors)")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        quiz = courses_services.quiz_open(quiz=quiz, actor=request.user)
        return Response(s.QuizSerializer(quiz_view(quiz, staff=True)).data)


class QuizClose(JsonView):
    @extend_schema(request=None, responses={200: s.QuizSerializer, **s.error_responses(400, 404)},
                   summary="Close the quiz now: attempts in progress are submitted (instructors)")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        quiz = courses_services.quiz_close_now(quiz=quiz, actor=request.user)
        return Response(s.QuizSerializer(quiz_view(quiz, staff=True)).data)


class QuizAttempts(JsonView):
    @extend_schema(responses={200: s.AttemptSummarySerializer(many=True), **s.error_responses(404)},
                   summary="Attempts: every learner's for staff, one's own for a learner")
    def get(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        if courses_selectors.role_in(course=quiz.course, user=request.user) in STAFF_ROLES:
            views = [attempt_summary(a, feedback=True)
                     for a in courses_selectors.attempts_for_staff(quiz=quiz, user=request.user)]
        else:
            mine = courses_selectors.attempts_as_of(courses_selectors.attempts_of(learner=request.user, quiz=quiz))
            views = [attempt_summary(a, feedback=courses_rules.feedback_visible(quiz=quiz, attempt=a).feedback)
                     for a in mine]
        return Response(s.AttemptSummarySerializer(views, many=True).data)

    @extend_schema(request=None, responses={201: s.AttemptSerializer, **s.error_responses(202, 400, 404, 503)},
                   summary="Start an attempt (or get the one in progress); 202 while its problems are prepared")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        attempt = courses_services.attempt_start(quiz=quiz, learner=request.user)
        return _attempt(attempt, request.user, status_code=status.HTTP_201_CREATED)


class QuizPreview(JsonView):
    @extend_schema(request=None, responses={201: s.AttemptSerializer, **s.error_responses(202, 400, 404, 503)},
                   summary="Staff take their own quiz as a learner would: a preview attempt, not graded into anything")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        attempt = courses_services.attempt_preview_start(quiz=quiz, actor=request.user)
        return _attempt(attempt, request.user, status_code=status.HTTP_201_CREATED)


class AttemptDetail(JsonView):
    @extend_schema(responses={200: s.AttemptSerializer, **s.error_responses(404)},
                   summary="An attempt as its learner saw it (per the feedback timing)")
    def get(self, request, attempt_id: int):
        return _attempt(courses_selectors.attempt_for(user=request.user, attempt_id=attempt_id), request.user)


class AttemptAnswer(JsonView):
    @extend_schema(
        request=s.AnswerRequest,
        parameters=[IDEMPOTENCY_KEY],
        examples=[OpenApiExample("Theory, single choice (an option's id)", {"answer": {"response": "k7q2mxw4b9tz3d5a"}}, request_only=True),
                  OpenApiExample("With certainty", {"answer": {"response": "k7q2mxw4b9tz3d5a"}, "certainty": 2}, request_only=True)],
        responses={202: s.AnswerAcceptedSerializer, **s.error_responses(400, 404, 409, 415)},
        summary="Answer the question at this position; graded by the worker",
    )
    def post(self, request, attempt_id: int, position: int):
        attempt = courses_selectors.attempt_for(user=request.user, attempt_id=attempt_id)
        if attempt.learner_id != request.user.id:
            raise Http404("No such attempt.")
        data = _valid(s.AnswerRequest, request)
        accepted = courses_services.answer_submit(
            attempt=attempt, learner=request.user, position=position, answer=data["answer"],
            certainty=data["certainty"], idempotency_key=idempotency_key(request),
        )
        submission = accepted.answer.submission
        view = {
            "submission": submission.id,
            "position": position,
            "certainty": accepted.answer.certainty,
            "graded": submission.status != "pending",
            "attempt": attempt.id,
        }
        return Response(s.AnswerAcceptedSerializer(view).data, status=status.HTTP_202_ACCEPTED)


class AttemptSubmit(JsonView):
    @extend_schema(request=None, responses={200: s.AttemptSerializer, **s.error_responses(400, 404, 409)},
                   summary="Hand the attempt in")
    def post(self, request, attempt_id: int):
        attempt = courses_selectors.attempt_for(user=request.user, attempt_id=attempt_id)
        return _attempt(courses_services.attempt_submit(attempt=attempt, learner=request.user), request.user)


# --- Results -----------------------------------------------------------------------------------


class CourseGradebook(JsonView):
    @extend_schema(responses={200: s.GradebookSerializer, **s.error_responses(404)},
                   summary="Learners x quizzes (instructors and TAs)")
    def get(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        view = gradebook_view(courses_selectors.gradebook_for(course=course, user=request.user))
        return Response(s.GradebookSerializer(view).data)


class CourseGradebookCsv(JsonView):
    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR), **s.error_responses(404)},
                   summary="The gradebook as CSV (instructors and TAs)")
    def get(self, request, course_id: int):
        course = courses_selectors.course_for(user=request.user, course_id=course_id)
        text = courses_rules.gradebook_csv(courses_selectors.gradebook_for(course=course, user=request.user))
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="gradebook-course-{course.id}.csv"'
        return response


class QuizStatistics(JsonView):
    @extend_schema(
        parameters=[s.StatisticsQuery],
        responses={200: s.QuizStatisticsSerializer, **s.error_responses(400, 404)},
        summary="Item statistics per slot and per drawn question, Cronbach's alpha, accuracy by parameter",
    )
    def get(self, request, quiz_id: int):
        query = s.StatisticsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        stats = courses_selectors.quiz_statistics(
            quiz=quiz, user=request.user, first_attempts_only=query.validated_data["attempts"] == "first"
        )
        return Response(s.QuizStatisticsSerializer(stats).data)


class RegradePreview(JsonView):
    @extend_schema(responses={200: s.RegradeChangeSerializer(many=True), **s.error_responses(404)},
                   summary="Which marks a regrade would change, old -> new (instructors and TAs)")
    def get(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        changes = [asdict(c) for c in courses_selectors.regrade_preview(quiz=quiz, user=request.user)]
        return Response(s.RegradeChangeSerializer(changes, many=True).data)


class RegradeStart(JsonView):
    @extend_schema(request=None, responses={202: s.RegradeRunSerializer, **s.error_responses(400, 404)},
                   summary="Apply a regrade in batches on the worker (instructors)")
    def post(self, request, quiz_id: int):
        quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
        run = courses_services.regrade_start(quiz=quiz, user=request.user)
        run.refresh_from_db()
        return Response(s.RegradeRunSerializer(_run_view(run)).data, status=status.HTTP_202_ACCEPTED)


class RegradeDetail(JsonView):
    @extend_schema(responses={200: s.RegradeRunSerializer, **s.error_responses(404)})
    def get(self, request, run_id: int):
        run = courses_selectors.regrade_run_for(user=request.user, run_id=run_id)
        return Response(s.RegradeRunSerializer(_run_view(run)).data)
