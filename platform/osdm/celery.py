"""The Celery application. Tasks carry their tenant's schema (tenant-schemas-celery), so a task
queued while serving `acme` runs in `acme`'s schema and nowhere else."""

import os

from celery.signals import task_postrun, task_prerun
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osdm.settings")

app = CeleryApp("osdm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**_kwargs):
    """Drop connections that broke or outlived CONN_MAX_AGE, as Django does around a request: with
    CELERY_DB_REUSE_MAX the worker keeps its connections between tasks."""
    from django.db import close_old_connections

    close_old_connections()
