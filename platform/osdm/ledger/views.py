"""The operator's reconciliation report."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.core.permissions import IsOperator

from .reconciliation import reconcile


class ReconciliationView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="reconciliation_retrieve", tags=["ledger"],
                   parameters=[OpenApiParameter("gateways", bool, description="Also ask each gateway (default true).")],
                   responses={200: inline_serializer("Reconciliation", {
                       "ok": serializers.BooleanField(),
                       "ledger": serializers.ListField(child=serializers.CharField()),
                       "gateways": serializers.ListField(child=serializers.DictField()),
                       "checked_payments": serializers.IntegerField(),
                       "unreachable": serializers.ListField(child=serializers.CharField())})},
                   summary="Recompute every balance and compare captured payments with the gateways (reports only)")
    def get(self, request):
        check = request.query_params.get("gateways", "true").lower() not in ("0", "false", "no")
        return Response(reconcile(check_gateways=check))
