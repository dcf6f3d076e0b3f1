from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, StrictInputSerializer

from .models import Review


class ReviewSerializer(ModelSerializer):
    order_id = serializers.UUIDField(read_only=True)
    listing_id = serializers.UUIDField(read_only=True)
    author_id = serializers.UUIDField(read_only=True)
    subject_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Review
        fields = ["id", "order_id", "listing_id", "author_id", "subject_id", "role", "rating", "text", "status",
                  "reply", "replied_at", "hidden_reason", "created_at", "published_at"]


class ReviewInput(StrictInputSerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    text = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ReplyInput(StrictInputSerializer):
    text = serializers.CharField(max_length=5000)


class HideInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)
