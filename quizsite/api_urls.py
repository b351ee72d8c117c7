from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import api

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
]
