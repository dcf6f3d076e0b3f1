"""The Celery application. Tasks carry their tenant's schema (tenant-schemas-celery), so a task
queued while serving `acme` runs in `acme`'s schema and nowhere else."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osdm.settings")

app = CeleryApp("osdm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
