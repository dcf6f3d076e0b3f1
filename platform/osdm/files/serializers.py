from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, Serializer

from .models import StoredFile


class StoredFileSerializer(ModelSerializer):
    class Meta:
        model = StoredFile
        fields = ["id", "name", "purpose", "content_type", "size", "sha256", "width", "height", "created_at"]


class UploadInput(Serializer):
    file = serializers.FileField()
    purpose = serializers.ChoiceField(choices=StoredFile.Purpose.choices)
