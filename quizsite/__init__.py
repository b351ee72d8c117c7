"""The Django project: settings, URLs, the Celery app, the web pages and the JSON API."""

from .celery import app as celery_app

__all__ = ("celery_app",)
