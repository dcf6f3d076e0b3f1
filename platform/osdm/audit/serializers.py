from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, StrictInputSerializer

from .models import AuditRecord


class AuditRecordSerializer(ModelSerializer):
    class Meta:
        model = AuditRecord
        fields = ["id", "created_at", "action", "actor_type", "actor_id", "object_type", "object_id", "before",
                  "after", "request_id"]


class AuditFilter(StrictInputSerializer):
    action = serializers.CharField(required=False, max_length=100)
    object_type = serializers.CharField(required=False, max_length=64)
    object_id = serializers.CharField(required=False, max_length=64)
    actor_type = serializers.ChoiceField(choices=AuditRecord.ActorType.choices, required=False)
    actor_id = serializers.CharField(required=False, max_length=64)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    # pagination parameters pass through
    cursor = serializers.CharField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)
