from django.apps import AppConfig


class QuestionsConfig(AppConfig):
    name = "questions"
    verbose_name = "Questions, problems and grading"
    default_auto_field = "django.db.models.BigAutoField"
