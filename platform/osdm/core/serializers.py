"""Input serializer base: unknown fields are an error, not silently dropped, so a typo in a field
name fails loudly instead of leaving a setting unchanged."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    default_error_messages = {"unknown_field": _("Unknown field.")}

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict):
            unknown = {str(key): [self.error_messages["unknown_field"]] for key in data if key not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value
