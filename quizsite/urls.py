from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import authoring, learning_views, mock_views, views

urlpatterns = [
    path("", learning_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.signup, name="signup"),
    path("practice/new", views.practice_new, name="practice-new"),
    path("practice/topics/<slug:topic_slug>", views.practice_topic, name="practice-topic"),
    path("practice/items/<int:item_id>/", views.practice_item, name="practice-item"),
    path("practice/items/<int:item_id>/hints", learning_views.practice_hint, name="practice-hint"),
    path("practice/run", learning_views.practice_run, name="practice-run"),
    path("practice/run/next", learning_views.practice_run_next, name="practice-run-next"),
    path("reviews/", learning_views.reviews, name="reviews"),
    path("reviews/next", learning_views.review_start, name="review-start"),
    path("settings/streak", learning_views.streak_setting, name="streak-setting"),
    path("practice/items/<int:item_id>/preview", views.practice_item_preview, name="practice-item-preview"),
    path(
        "practice/submissions/<int:submission_id>/result",
        views.submission_result,
        name="submission-result",
    ),
    path("mock/", mock_views.mock_home, name="mock-home"),
    path("mock/start", mock_views.mock_start, name="mock-start"),
    path("mock/<int:mock_id>/", mock_views.mock_interview, name="mock-interview"),
    path(
        "mock/<int:mock_id>/questions/<int:position>", mock_views.mock_answer, name="mock-answer"
    ),
    path("mock/<int:mock_id>/finish", mock_views.mock_finish, name="mock-finish"),
    path("mock/<int:mock_id>/review", mock_views.mock_review, name="mock-review"),
    path("mock/<int:mock_id>/review/body", mock_views.mock_review_body, name="mock-review-body"),
    path("author/", authoring.question_list, name="author-list"),
    path("author/questions/new", authoring.question_edit, name="author-new"),
    path("author/questions/<slug:slug>/", authoring.question_edit, name="author-edit"),
    path("author/import", authoring.question_import, name="author-import"),
    path("author/export", authoring.question_export, name="author-export"),
    path("healthz", views.healthz, name="healthz"),
    path("api/", include("quizsite.api_urls")),
    path("admin/", admin.site.urls),
]
