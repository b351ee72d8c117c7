from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView

from . import api
from . import api_instructor as quiz_api


@csrf_exempt  # it changes nothing; without this a POST gets the CSRF failure page instead
def not_found(request, path: str) -> JsonResponse:
    """Any other /api/ URL (an id that is not a number, say): a JSON 404 like the views', not the
    site's HTML page, so a client always gets the error shape the schema states."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("v1/auth/token", api.ObtainToken.as_view(), name="api-token"),
    path("v1/topics", api.TopicList.as_view(), name="api-topics"),
    path("v1/kinds", api.KindList.as_view(), name="api-kinds"),
    path("v1/practice/items", api.PracticeItemCreate.as_view(), name="api-items"),
    path("v1/practice/items/<int:item_id>", api.PracticeItemDetail.as_view(), name="api-item"),
    path(
        "v1/practice/items/<int:item_id>/submissions",
        api.SubmissionCreate.as_view(),
        name="api-item-submissions",
    ),
    path("v1/submissions/<int:submission_id>", api.SubmissionDetail.as_view(), name="api-submission"),
    path("v1/practice/items/<int:item_id>/hints", api.HintReveal.as_view(), name="api-item-hints"),
    path("v1/reviews", api.ReviewList.as_view(), name="api-reviews"),
    path("v1/reviews/next", api.ReviewNext.as_view(), name="api-review-next"),
    # Courses and quizzes (quizsite/api_instructor.py)
    path("v1/courses", quiz_api.CourseListCreate.as_view(), name="api-courses"),
    path("v1/courses/join", quiz_api.CourseJoin.as_view(), name="api-course-join"),
    path("v1/courses/<int:course_id>", quiz_api.CourseDetail.as_view(), name="api-course"),
    path("v1/courses/<int:course_id>/members", quiz_api.CourseMembers.as_view(), name="api-course-members"),
    path("v1/courses/<int:course_id>/quizzes", quiz_api.CourseQuizzes.as_view(), name="api-course-quizzes"),
    path("v1/courses/<int:course_id>/gradebook", quiz_api.CourseGradebook.as_view(), name="api-gradebook"),
    path("v1/courses/<int:course_id>/gradebook.csv", quiz_api.CourseGradebookCsv.as_view(), name="api-gradebook-csv"),
    path("v1/quizzes/<int:quiz_id>", quiz_api.QuizDetail.as_view(), name="api-quiz"),
    path("v1/quizzes/<int:quiz_id>/open", quiz_api.QuizOpen.as_view(), name="api-quiz-open"),
    path("v1/quizzes/<int:quiz_id>/close", quiz_api.QuizClose.as_view(), name="api-quiz-close"),
    path("v1/quizzes/<int:quiz_id>/preview", quiz_api.QuizPreview.as_view(), name="api-quiz-preview"),
    path("v1/quizzes/<int:quiz_id>/attempts", quiz_api.QuizAttempts.as_view(), name="api-quiz-attempts"),
    path("v1/quizzes/<int:quiz_id>/statistics", quiz_api.QuizStatistics.as_view(), name="api-quiz-statistics"),
    path("v1/quizzes/<int:quiz_id>/regrade/preview", quiz_api.RegradePreview.as_view(), name="api-regrade-preview"),
    path("v1/quizzes/<int:quiz_id>/regrades", quiz_api.RegradeStart.as_view(), name="api-regrades"),
    path("v1/regrades/<int:run_id>", quiz_api.RegradeDetail.as_view(), name="api-regrade"),
    path("v1/attempts/<int:attempt_id>", quiz_api.AttemptDetail.as_view(), name="api-attempt"),
    path(
        "v1/attempts/<int:attempt_id>/slots/<int:position>/answers",
        quiz_api.AttemptAnswer.as_view(),
        name="api-attempt-answers",
    ),
    path("v1/attempts/<int:attempt_id>/submit", quiz_api.AttemptSubmit.as_view(), name="api-attempt-submit"),
    # Last: whatever the routes above did not match.
    re_path(r"^(?P<path>.*)$", not_found, name="api-not-found"),
]
