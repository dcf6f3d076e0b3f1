from rest_framework import serializers

from .models import StoredFile


class StoredFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = StoredFile
        fields = ["id", "name", "purpose", "content_type", "size", "sha256", "width", "height", "created_at"]


class UploadInput(serializers.Serializer):
    file = serializers.FileField()
    purpose = serializers.ChoiceField(choices=StoredFile.Purpose.choices)
