"""OSDM, the One Stop Digital Market: the Django project and its domain apps."""

from .celery import app as celery_app

__all__ = ["celery_app"]
