"""JSON answers for Django's own 404 and 500, so no HTML page ever reaches an API client."""

from django.utils.translation import gettext as _

from .errors import json_error


def not_found(request, exception=None):
    return json_error(404, "not_found", _("Not found."))


def server_error(request):
    return json_error(500, "internal_error", _("Something went wrong on our side. It has been logged."))
