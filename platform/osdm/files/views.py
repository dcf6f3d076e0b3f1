"""Uploading and downloading files."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.permissions import IsEndUser
from osdm.core.schema import ErrorResponse

from . import selectors, services
from .serializers import StoredFileSerializer, UploadInput


class FileUploadView(APIView):
    permission_classes = [IsEndUser]
    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="files_upload", tags=["files"], request={"multipart/form-data": UploadInput},
                   responses={201: StoredFileSerializer, 400: ErrorResponse, 401: ErrorResponse},
                   summary="Upload a file (multipart: file, purpose)")
    def post(self, request):
        data = UploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        stored = services.file_upload(actor=Actor.from_principal(request.user), owner=request.user,
                                      upload=data.validated_data["file"], purpose=data.validated_data["purpose"])
        return Response(StoredFileSerializer(stored).data, status=status.HTTP_201_CREATED)


class FileDetailView(APIView):
    @extend_schema(operation_id="files_retrieve", tags=["files"],
                   responses={200: StoredFileSerializer, 404: ErrorResponse})
    def get(self, request, file_id):
        return Response(StoredFileSerializer(selectors.file_downloadable(principal=request.user, file_id=file_id)).data)


class FileDownloadView(APIView):
    @extend_schema(operation_id="files_download", tags=["files"],
                   responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
                              404: ErrorResponse}, summary="Download a file you may read")
    def get(self, request, file_id):
        stored = selectors.file_downloadable(principal=request.user, file_id=file_id)
        response = FileResponse(default_storage.open(stored.storage_key, "rb"), as_attachment=True,
                                filename=stored.name, content_type=stored.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response
