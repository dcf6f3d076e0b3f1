"""Webhook endpoints, their deliveries, redelivery, and the events API. Operators only."""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.errors import ValidationFailed
from osdm.core.pagination import CursorPagination
from osdm.core.permissions import IsOperator
from osdm.core.schema import ErrorResponse

from . import catalog, selectors, services
from .models import Delivery
from .serializers import (
    EndpointCreateInput,
    EndpointSerializer,
    EndpointUpdateInput,
    EndpointWithSecretSerializer,
    EventSerializer,
    RedeliverFailedInput,
    RedeliverFailedOutput,
    RotateInput,
    WebhookDeliverySerializer,
)

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse}
TAG = ["webhooks"]


class OperatorView(APIView):
    permission_classes = [IsOperator]

    def actor(self) -> Actor:
        return Actor.from_principal(self.request.user)


class EndpointListCreateView(OperatorView, generics.ListAPIView):
    serializer_class = EndpointSerializer

    def get_queryset(self):
        return selectors.endpoint_list()

    @extend_schema(operation_id="webhook_endpoints_list", tags=TAG)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="webhook_endpoints_create", tags=TAG, request=EndpointCreateInput,
                   responses={201: EndpointWithSecretSerializer, **ERRORS},
                   summary="Add an endpoint; the response holds its signing secret")
    def post(self, request):
        data = EndpointCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(actor=self.actor(), **data.validated_data)
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailView(OperatorView):
    @extend_schema(operation_id="webhook_endpoints_retrieve", tags=TAG, responses={200: EndpointSerializer, **ERRORS})
    def get(self, request, endpoint_id: str):
        return Response(EndpointSerializer(selectors.endpoint_get(endpoint_id=endpoint_id)).data)

    @extend_schema(operation_id="webhook_endpoints_update", tags=TAG, request=EndpointUpdateInput,
                   responses={200: EndpointSerializer, **ERRORS})
    def patch(self, request, endpoint_id: str):
        endpoint = selectors.endpoint_get(endpoint_id=endpoint_id)
        data = EndpointUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(actor=self.actor(), endpoint=endpoint, **data.validated_data)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(operation_id="webhook_endpoints_delete", tags=TAG, responses={204: None, **ERRORS})
    def delete(self, request, endpoint_id: str):
        services.endpoint_delete(actor=self.actor(), endpoint=selectors.endpoint_get(endpoint_id=endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointSecretView(OperatorView):
    @extend_schema(operation_id="webhook_endpoints_secret", tags=TAG,
                   responses={200: EndpointWithSecretSerializer, **ERRORS}, summary="Reveal the signing secret")
    def get(self, request, endpoint_id: str):
        return Response(EndpointWithSecretSerializer(selectors.endpoint_get(endpoint_id=endpoint_id)).data)


class EndpointRotateView(OperatorView):
    @extend_schema(operation_id="webhook_endpoints_rotate_secret", tags=TAG, request=RotateInput,
                   responses={200: EndpointWithSecretSerializer, **ERRORS},
                   summary="New signing secret; the old one also signs for `grace_hours`")
    def post(self, request, endpoint_id: str):
        endpoint = selectors.endpoint_get(endpoint_id=endpoint_id)
        data = RotateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_rotate_secret(actor=self.actor(), endpoint=endpoint,
                                                   grace=timedelta(hours=data.validated_data["grace_hours"]))
        return Response(EndpointWithSecretSerializer(endpoint).data)


class EndpointTestView(OperatorView):
    @extend_schema(operation_id="webhook_endpoints_test", tags=TAG, request=None,
                   responses={202: EventSerializer, **ERRORS}, summary="Send a `ping` event to this endpoint")
    def post(self, request, endpoint_id: str):
        event = services.endpoint_test(actor=self.actor(), endpoint=selectors.endpoint_get(endpoint_id=endpoint_id))
        return Response(EventSerializer(event).data, status=status.HTTP_202_ACCEPTED)


class EndpointDeliveriesView(OperatorView, generics.ListAPIView):
    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):
        endpoint = selectors.endpoint_get(endpoint_id=self.kwargs["endpoint_id"])
        wanted = self.request.query_params.get("status")
        if wanted and wanted not in Delivery.Status.values:
            raise ValidationFailed(fields={"status": [f"One of: {', '.join(Delivery.Status.values)}."]})
        return selectors.delivery_list(endpoint=endpoint, status=wanted,
                                       event_type=self.request.query_params.get("event_type"))

    @extend_schema(operation_id="webhook_endpoints_deliveries_list", tags=TAG, parameters=[
        OpenApiParameter("status", str, enum=Delivery.Status.values), OpenApiParameter("event_type", str)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EndpointRedeliverFailedView(OperatorView):
    @extend_schema(operation_id="webhook_endpoints_redeliver_failed", tags=TAG, request=RedeliverFailedInput,
                   responses={202: RedeliverFailedOutput, **ERRORS},
                   summary="Redeliver every failed delivery of this endpoint since a time")
    def post(self, request, endpoint_id: str):
        endpoint = selectors.endpoint_get(endpoint_id=endpoint_id)
        data = RedeliverFailedInput(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.deliveries_redeliver_failed(actor=self.actor(), endpoint=endpoint,
                                                     since=data.validated_data["since"])
        return Response({"redelivered": count}, status=status.HTTP_202_ACCEPTED)


class DeliveryRedeliverView(OperatorView):
    @extend_schema(operation_id="webhook_deliveries_redeliver", tags=TAG, request=None,
                   responses={202: WebhookDeliverySerializer, **ERRORS},
                   summary="Send a delivery again (same webhook-id, fresh retry schedule)")
    def post(self, request, delivery_id: int):
        delivery = services.delivery_redeliver(actor=self.actor(),
                                               delivery=selectors.delivery_get(delivery_id=delivery_id))
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class EventPagination(CursorPagination):
    ordering = ("sequence",)


class EventListView(OperatorView, generics.ListAPIView):
    serializer_class = EventSerializer
    pagination_class = EventPagination

    def get_queryset(self):
        params = self.request.query_params
        types = [t for t in params.get("type", "").split(",") if t]
        unknown = [t for t in types if t not in catalog.CATALOG]
        if unknown:
            raise ValidationFailed(fields={"type": [f"Unknown event type: {t}." for t in unknown]})
        after = params.get("after")
        sequence = selectors.event_get(event_id=after).sequence if after else None
        return selectors.event_list(types=types, after=sequence)

    @extend_schema(operation_id="events_list", tags=["events"], parameters=[
        OpenApiParameter("type", str, description="Comma-separated event types."),
        OpenApiParameter("after", str, description="An event id: only events after it, oldest first.")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EventDetailView(OperatorView):
    @extend_schema(operation_id="events_retrieve", tags=["events"], responses={200: EventSerializer, **ERRORS})
    def get(self, request, event_id: str):
        return Response(EventSerializer(selectors.event_get(event_id=event_id)).data)
