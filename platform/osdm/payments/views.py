"""Checkout, payment status, gateway callbacks, refunds, and the operator's gateway configuration."""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.errors import NotFound
from osdm.core.permissions import IsEndUser, IsOperator
from osdm.core.schema import ErrorResponse
from osdm.idempotency.decorators import idempotent
from osdm.orders import selectors as order_selectors

from . import gateways, selectors, services
from .gateways.base import Method, Source
from .models import GatewayConfig, MethodRoute
from .serializers import (
    ConfirmInput,
    GatewayConfigInput,
    GatewayConfigSerializer,
    MethodRouteInput,
    MethodRouteSerializer,
    PaymentSerializer,
    ProcessInput,
    RefundInput,
    RefundSerializer,
)

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse,
          422: ErrorResponse, 502: ErrorResponse}
TAG = ["payments"]
IDEMPOTENCY = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                               description="Replays the first response for the same key and body.")


def _actor(request) -> Actor:
    return Actor.from_principal(request.user)


def _payment(request, payment_id):
    return selectors.payment_get(principal=request.user, payment_id=payment_id)


class PaymentListView(generics.ListAPIView):
    serializer_class = PaymentSerializer

    def get_queryset(self):
        return selectors.payment_list(principal=self.request.user, order_id=self.request.query_params.get("order"),
                                      status=self.request.query_params.get("status"))

    @extend_schema(operation_id="payments_list", tags=TAG, parameters=[OpenApiParameter("order", str),
                                                                       OpenApiParameter("status", str)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PaymentDetailView(APIView):
    @extend_schema(operation_id="payments_retrieve", tags=TAG, responses={200: PaymentSerializer, **ERRORS})
    def get(self, request, payment_id):
        return Response(PaymentSerializer(selectors.payment_refunds_load(_payment(request, payment_id))).data)


class PaymentProcessView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="payments_process", tags=TAG, request=ProcessInput, parameters=[IDEMPOTENCY],
                   responses={200: PaymentSerializer, **ERRORS},
                   summary="Pay: choose a method (and gateway); the response says what to do next (next_action)")
    @idempotent
    def post(self, request, payment_id):
        data = ProcessInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        raw = values.get("source", {})
        source = Source(token=raw.get("token"), card_number=raw.get("number"), card_name=raw.get("name"),
                        card_month=raw.get("month"), card_year=raw.get("year"), card_cvc=raw.get("cvc"),
                        mobile=raw.get("mobile"))

        def callback_url_for(slug: str) -> str:
            return request.build_absolute_uri(reverse("payment-callback", kwargs={"gateway": slug}))

        payment = services.payment_process(actor=_actor(request), payment_id=payment_id, principal=request.user,
                                           data=services.ProcessInput(method=Method(values["method"]),
                                                                      return_url=values["return_url"],
                                                                      callback_url_for=callback_url_for,
                                                                      gateway=values.get("gateway"), source=source))
        return Response(PaymentSerializer(payment).data)


class PaymentConfirmView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="payments_confirm", tags=TAG, request=ConfirmInput, parameters=[IDEMPOTENCY],
                   responses={200: PaymentSerializer, **ERRORS},
                   summary="Second step where the gateway has one: an STC Pay OTP, a PayPal capture")
    @idempotent
    def post(self, request, payment_id):
        payment = _payment(request, payment_id)
        data = ConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.payment_confirm(actor=_actor(request), payment=payment, principal=request.user,
                                           data=dict(data.validated_data))
        return Response(PaymentSerializer(payment).data)


class PaymentSyncView(APIView):
    @extend_schema(operation_id="payments_sync", tags=TAG, request=None, responses={200: PaymentSerializer, **ERRORS},
                   summary="Ask the gateway for the payment's status now (after the payer's browser returns)")
    def post(self, request, payment_id):
        return Response(PaymentSerializer(services.payment_sync(payment=_payment(request, payment_id))).data)


class PaymentRefundsView(APIView):
    def get_permissions(self):
        return [IsOperator()] if self.request.method == "POST" else super().get_permissions()

    @extend_schema(operation_id="payments_refunds_list", tags=TAG, responses={200: RefundSerializer(many=True)})
    def get(self, request, payment_id):
        payment = _payment(request, payment_id)
        return Response({"next": None, "previous": None,
                         "results": RefundSerializer(payment.refunds.all(), many=True).data})

    @extend_schema(operation_id="payments_refunds_create", tags=TAG, request=RefundInput, parameters=[IDEMPOTENCY],
                   responses={201: RefundSerializer, **ERRORS},
                   summary="Operator: refund in full (no amount) or in part, through the gateway")
    @idempotent
    def post(self, request, payment_id):
        payment = _payment(request, payment_id)
        data = RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        refund = services.refund_create(actor=_actor(request), payment=payment,
                                        amount=data.validated_data.get("amount"),
                                        reason=data.validated_data["reason"])
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class MilestonePaymentView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="orders_milestones_payment", tags=TAG, request=None, parameters=[IDEMPOTENCY],
                   responses={200: PaymentSerializer, **ERRORS},
                   summary="Buyer: the payment that funds a milestone (created on first call)")
    @idempotent
    def post(self, request, order_id, milestone_id):
        order = order_selectors.order_get(principal=request.user, order_id=order_id)
        payment = services.payment_for_milestone(actor=_actor(request), order=order, milestone_id=milestone_id,
                                                 principal=request.user)
        return Response(PaymentSerializer(payment).data)


class GatewayCallbackView(APIView):
    """Gateways call this; they authenticate by their own signature scheme, not by our keys."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(operation_id="payments_webhooks_receive", tags=TAG, request=None,
                   responses={200: OpenApiResponse(description="accepted (applied, duplicate or unknown payment)"),
                              400: ErrorResponse, 404: ErrorResponse},
                   summary="Where gateways send their callbacks (verified by each gateway's scheme)")
    def post(self, request, gateway: str):
        if gateway not in gateways.SLUGS:
            raise NotFound(code="unknown_gateway")
        status_code, outcome = services.callback_handle(slug=gateway, body=request.body,
                                                        headers=dict(request.headers.items()))
        if status_code == 503:
            return JsonResponse({"error": {"type": "api_error", "code": "verification_unavailable",
                                           "message": "The callback could not be verified now; retry."}}, status=503)
        if status_code == 400:
            return JsonResponse({"error": {"type": "invalid_request_error", "code": "invalid_signature",
                                           "message": "The callback could not be verified."}}, status=400)
        return JsonResponse({"received": True, "outcome": outcome}, status=status_code)


class GatewayConfigListView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="payment_gateways_list", tags=["payment configuration"],
                   responses={200: GatewayConfigSerializer(many=True)})
    def get(self, request):
        configured = {c.gateway: c for c in GatewayConfig.objects.all()}
        rows = [configured.get(slug) or GatewayConfig(gateway=slug, enabled=False) for slug in gateways.available()]
        return Response({"next": None, "previous": None, "results": GatewayConfigSerializer(rows, many=True).data})


class GatewayConfigDetailView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="payment_gateways_configure", tags=["payment configuration"],
                   request=GatewayConfigInput, responses={200: GatewayConfigSerializer, **ERRORS},
                   summary="Enable a gateway and store its credentials (encrypted; never returned)")
    def put(self, request, gateway: str):
        data = GatewayConfigInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        config = services.gateway_configure(actor=_actor(request), slug=gateway, enabled=values["enabled"],
                                            mode=values["mode"], credentials=values.get("credentials"),
                                            base_url=values["base_url"])
        if config.enabled:
            # Gateways whose webhooks are registered on the merchant account (Moyasar) learn our URL now.
            services.gateway_register_webhook(
                slug=gateway, url=request.build_absolute_uri(reverse("payment-callback", kwargs={"gateway": gateway})))
        return Response(GatewayConfigSerializer(config).data)


class MethodRouteListView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="payment_methods_list", tags=["payment configuration"],
                   responses={200: MethodRouteSerializer(many=True)})
    def get(self, request):
        return Response({"next": None, "previous": None,
                         "results": MethodRouteSerializer(MethodRoute.objects.all(), many=True).data})


class MethodRouteDetailView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="payment_methods_route", tags=["payment configuration"], request=MethodRouteInput,
                   responses={200: MethodRouteSerializer, **ERRORS},
                   summary="Route a method (mada, visa, ...) to a gateway, with an optional fallback")
    def put(self, request, method: str):
        if method not in Method.__members__.values():
            raise NotFound(code="unknown_method")
        data = MethodRouteInput(data=request.data)
        data.is_valid(raise_exception=True)
        route = services.method_route_set(actor=_actor(request), method=Method(method), **data.validated_data)
        return Response(MethodRouteSerializer(route).data)
