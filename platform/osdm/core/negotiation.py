"""Content negotiation for an API that speaks JSON only.

DRF's default negotiation parses the Accept header and every renderer's media type on each request
(3 % of a checkout's CPU). With one renderer, the answer for the common Accept headers — none,
`*/*`, `application/json` — is known; anything else goes through DRF's own negotiation, which answers
406 for what JSON cannot satisfy, as before.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

_JSON_ACCEPTS = frozenset({"", "*/*", "application/json", "application/json, */*", "application/json; charset=utf-8"})


class JSONContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if (len(renderers) == 1 and not format_suffix
                and request.META.get("HTTP_ACCEPT", "").strip() in _JSON_ACCEPTS
                and self.settings.URL_FORMAT_OVERRIDE not in request.query_params):
            renderer = renderers[0]
            return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)
