"""Operator access to the audit log: a filtered, paginated list and a CSV export."""

from __future__ import annotations

import csv
import json

from django.db import connection
from django.http import StreamingHttpResponse
from django_tenants.utils import schema_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.views import APIView

from osdm.core.permissions import IsOperator

from . import selectors
from .serializers import AuditFilter, AuditRecordSerializer

EXPORT_FIELDS = ["id", "created_at", "action", "actor_type", "actor_id", "object_type", "object_id", "before",
                 "after", "request_id"]


def _filters(request) -> dict:
    data = AuditFilter(data=request.query_params.dict())
    data.is_valid(raise_exception=True)
    return {k: v for k, v in data.validated_data.items() if k not in ("cursor", "limit")}


class AuditLogView(generics.ListAPIView):
    permission_classes = [IsOperator]
    serializer_class = AuditRecordSerializer

    def get_queryset(self):
        return selectors.audit_list(**_filters(self.request))

    @extend_schema(operation_id="audit_log_list", tags=["audit"], parameters=[AuditFilter])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _Echo:
    def write(self, value):
        return value


class AuditExportView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="audit_log_export", tags=["audit"], parameters=[AuditFilter],
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
                   summary="The filtered audit log as CSV (streamed, oldest first)")
    def get(self, request):
        rows = selectors.audit_list(**_filters(request)).order_by("id").values_list(*EXPORT_FIELDS)
        writer = csv.writer(_Echo())

        schema = connection.schema_name

        def stream():
            yield writer.writerow(EXPORT_FIELDS)
            # The body is produced after the view returns, when the middleware has already put the
            # connection back on the public schema: come back to this tenant's for the rows.
            with schema_context(schema):
                for row in rows.iterator(chunk_size=2000):
                    yield writer.writerow([json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list)
                                           else v for v in row])

        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response
