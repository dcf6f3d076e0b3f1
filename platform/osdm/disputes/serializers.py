from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, StrictInputSerializer
from osdm.files.serializers import StoredFileSerializer

from .models import Dispute, DisputeMessage


class DisputeMessageSerializer(ModelSerializer):
    files = StoredFileSerializer(many=True, read_only=True)

    class Meta:
        model = DisputeMessage
        fields = ["id", "author_type", "author_id", "body", "files", "created_at"]


class DisputeSerializer(ModelSerializer):
    escrow_id = serializers.UUIDField(read_only=True)
    order_id = serializers.UUIDField(read_only=True)
    buyer_id = serializers.UUIDField(read_only=True)
    seller_id = serializers.UUIDField(read_only=True)
    messages = DisputeMessageSerializer(many=True, read_only=True)

    class Meta:
        model = Dispute
        fields = ["id", "escrow_id", "order_id", "buyer_id", "seller_id", "reason", "description", "status",
                  "outcome", "refund_amount", "release_amount", "resolution_note", "respond_by", "created_at",
                  "resolved_at", "messages"]


class OpenInput(StrictInputSerializer):
    reason = serializers.ChoiceField(choices=Dispute.Reason.choices)
    description = serializers.CharField(max_length=10000)
    file_ids = serializers.ListField(child=serializers.UUIDField(), max_length=20, required=False, default=list)


class DisputeMessageInput(StrictInputSerializer):
    body = serializers.CharField(max_length=10000)
    file_ids = serializers.ListField(child=serializers.UUIDField(), max_length=20, required=False, default=list)


class ResolveInput(StrictInputSerializer):
    outcome = serializers.ChoiceField(choices=Dispute.Outcome.choices)
    refund_amount = serializers.IntegerField(min_value=1, required=False,
                                             help_text="Split only: minor units back to the buyer.")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
