from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class QuestionsConfig(AppConfig):
    name = "questions"
    verbose_name = "Questions, problems and grading"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every process that can grade (web, worker, beat, commands, tests) loads `questions.tasks`,
        # which registers grading's hooks (`questions.practice.dispatch`): the review rating and
        # the quiz mark. Django's own discovery, as the admin finds `admin` modules.
        autodiscover_modules("tasks")
