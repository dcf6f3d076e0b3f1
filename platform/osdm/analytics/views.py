"""Dashboard endpoints: the figures and series a storefront draws."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.core.permissions import IsEndUser, IsOperator
from osdm.core.schema import ErrorResponse
from osdm.core.serializers import StrictInputSerializer
from tenants.selectors import current_tenant

from . import selectors

PARAMS = [OpenApiParameter("period", str, enum=["day", "week", "month"]), OpenApiParameter("from", str),
          OpenApiParameter("to", str), OpenApiParameter("market", str, enum=["products", "services", "projects"])]


class WindowInput(StrictInputSerializer):
    period = serializers.ChoiceField(choices=["day", "week", "month"], default="day")
    market = serializers.ChoiceField(choices=["products", "services", "projects"], required=False)

    def to_internal_value(self, data):
        data = dict(data)
        for name in ("from", "to"):
            if name in data:
                data[f"{name}_"] = data.pop(name)
        return super().to_internal_value(data)

    from_ = serializers.DateTimeField(required=False)
    to_ = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if attrs.get("from_") and attrs.get("to_") and attrs["from_"] >= attrs["to_"]:
            raise serializers.ValidationError({"from": ["Must be before `to`."]})
        if attrs.get("from_") and attrs.get("to_") and (attrs["to_"] - attrs["from_"]).days > 3 * 366:
            raise serializers.ValidationError({"from": ["At most three years at a time."]})
        return attrs


def _window(request):
    data = WindowInput(data=request.query_params.dict())
    data.is_valid(raise_exception=True)
    values = data.validated_data
    win = selectors.window(tz_name=current_tenant().timezone, period=values["period"], start=values.get("from_"),
                           end=values.get("to_"))
    return win, values.get("market")


class OverviewView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="dashboards_overview", tags=["dashboards"], parameters=PARAMS,
                   responses={200: dict, 400: ErrorResponse}, summary="Operator: the marketplace at a glance")
    def get(self, request):
        win, market = _window(request)
        return Response(selectors.overview(win=win, market=market))


class SellerDashboardView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="dashboards_seller", tags=["dashboards"], parameters=PARAMS,
                   responses={200: dict, 400: ErrorResponse}, summary="Seller: earnings, sales, escrow, rating")
    def get(self, request):
        win, market = _window(request)
        return Response(selectors.seller(user=request.user, win=win, market=market))


class BuyerDashboardView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="dashboards_buyer", tags=["dashboards"], parameters=PARAMS,
                   responses={200: dict, 400: ErrorResponse}, summary="Buyer: spending and orders")
    def get(self, request):
        win, market = _window(request)
        return Response(selectors.buyer(user=request.user, win=win, market=market))
