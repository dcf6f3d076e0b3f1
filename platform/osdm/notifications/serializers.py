from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, StrictInputSerializer

from .models import Notification, NotificationPreference


class NotificationSerializer(ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "data", "read_at", "created_at"]


class PreferenceSerializer(ModelSerializer):
    class Meta:
        model = NotificationPreference
        fields = ["kind", "in_app", "email"]


class PreferenceInput(StrictInputSerializer):
    in_app = serializers.BooleanField()
    email = serializers.BooleanField()


class ReadInput(StrictInputSerializer):
    ids = serializers.ListField(child=serializers.UUIDField(), max_length=500, required=False)
