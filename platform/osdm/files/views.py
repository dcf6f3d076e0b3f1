"""Uploading and downloading files."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.files.storage import default_storage
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.errors import NotFound
from osdm.core.permissions import IsEndUser
from osdm.core.schema import ErrorResponse

from . import selectors, services, signing
from .models import StoredFile
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


class FileLinkView(APIView):
    @extend_schema(operation_id="files_link", tags=["files"],
                   responses={200: inline_serializer("FileLink", {"url": serializers.URLField(),
                                                                  "thumbnail_url": serializers.URLField(allow_null=True),
                                                                  "expires_at": serializers.DateTimeField()}),
                              404: ErrorResponse},
                   summary="A short-lived signed link to download the file (no credentials needed to follow it)")
    def get(self, request, file_id):
        stored = selectors.file_downloadable(principal=request.user, file_id=file_id)
        expires, signature = signing.link_sign(stored.pk)
        url = request.build_absolute_uri(f"/api/v1/files/{stored.pk}/download?expires={expires}&signature={signature}")
        thumbnail = None
        if stored.thumbnail_key:
            t_expires, t_signature = signing.link_sign(stored.pk, kind="thumbnail")
            thumbnail = request.build_absolute_uri(
                f"/api/v1/files/{stored.pk}/thumbnail?expires={t_expires}&signature={t_signature}")
        return Response({"url": url, "thumbnail_url": thumbnail,
                         "expires_at": datetime.fromtimestamp(expires, tz=UTC).isoformat().replace("+00:00", "Z")})


class _SignedOrAuthorised(APIView):
    """Serves a file to the holder of a valid signed link, or to a caller who may read it."""

    permission_classes = [AllowAny]
    kind = "download"

    def _stored(self, request, file_id):
        params = request.query_params
        if "signature" in params:
            if not signing.link_valid(file_id, expires=params.get("expires"), signature=params.get("signature"),
                                      kind=self.kind):
                raise NotFound(code="link_expired_or_invalid")
            stored = StoredFile.objects.filter(pk=file_id).first()
            if stored is None:
                raise NotFound(code="file_not_found")
            return stored
        if request.user is None or not getattr(request.user, "is_authenticated", False):
            raise NotAuthenticated()
        return selectors.file_downloadable(principal=request.user, file_id=file_id)


class FileDownloadView(_SignedOrAuthorised):
    @extend_schema(operation_id="files_download", tags=["files"],
                   parameters=[OpenApiParameter("expires", int), OpenApiParameter("signature", str)],
                   responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
                              404: ErrorResponse}, summary="Download a file you may read (or by a signed link)")
    def get(self, request, file_id):
        stored = self._stored(request, file_id)
        response = FileResponse(default_storage.open(stored.storage_key, "rb"), as_attachment=True,
                                filename=stored.name, content_type=stored.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response


class FileThumbnailView(_SignedOrAuthorised):
    kind = "thumbnail"

    @extend_schema(operation_id="files_thumbnail", tags=["files"],
                   parameters=[OpenApiParameter("expires", int), OpenApiParameter("signature", str)],
                   responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY), 404: ErrorResponse},
                   summary="An image's 320 px JPEG thumbnail")
    def get(self, request, file_id):
        stored = self._stored(request, file_id)
        if not stored.thumbnail_key:
            raise NotFound(code="no_thumbnail")
        response = FileResponse(default_storage.open(stored.thumbnail_key, "rb"), content_type="image/jpeg")
        response["X-Content-Type-Options"] = "nosniff"
        return response
