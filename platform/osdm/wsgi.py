"""WSGI entry point (gunicorn osdm.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osdm.settings")

application = get_wsgi_application()
