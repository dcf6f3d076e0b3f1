"""Opening, discussing and resolving disputes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.permissions import IsEndUser, IsOperator
from osdm.core.schema import ErrorResponse
from osdm.escrow import selectors as escrow_selectors
from osdm.idempotency.decorators import idempotent

from . import selectors, services
from .serializers import (
    DisputeMessageInput,
    DisputeMessageSerializer,
    DisputeSerializer,
    OpenInput,
    ResolveInput,
)

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse}
TAG = ["disputes"]


def _detail(request, dispute_id) -> dict:
    return DisputeSerializer(selectors.dispute_get(principal=request.user, dispute_id=dispute_id)).data


class EscrowDisputeView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="escrows_dispute", tags=TAG, request=OpenInput,
                   responses={201: DisputeSerializer, **ERRORS},
                   summary="Buyer: dispute a held escrow within the dispute window (freezes the money)")
    @idempotent
    def post(self, request, escrow_id):
        escrow = escrow_selectors.escrow_get(principal=request.user, escrow_id=escrow_id)
        data = OpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.dispute_open(actor=Actor.from_principal(request.user), escrow=escrow,
                                        principal=request.user, **data.validated_data)
        return Response(_detail(request, dispute.pk), status=status.HTTP_201_CREATED)


class DisputeListView(generics.ListAPIView):
    serializer_class = DisputeSerializer

    def get_queryset(self):
        return selectors.dispute_list(principal=self.request.user, status=self.request.query_params.get("status"))

    @extend_schema(operation_id="disputes_list", tags=TAG, parameters=[OpenApiParameter("status", str)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DisputeDetailView(APIView):
    @extend_schema(operation_id="disputes_retrieve", tags=TAG, responses={200: DisputeSerializer, **ERRORS})
    def get(self, request, dispute_id):
        return Response(_detail(request, dispute_id))


class DisputeMessagesView(APIView):
    @extend_schema(operation_id="disputes_messages_create", tags=TAG, request=DisputeMessageInput,
                   responses={201: DisputeMessageSerializer, **ERRORS},
                   summary="Buyer, seller or operator: add a message (with evidence files)")
    def post(self, request, dispute_id):
        dispute = selectors.dispute_get(principal=request.user, dispute_id=dispute_id)
        data = DisputeMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.dispute_message(actor=Actor.from_principal(request.user), dispute=dispute,
                                           principal=request.user, **data.validated_data)
        return Response(DisputeMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class DisputeResolveView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="disputes_resolve", tags=TAG, request=ResolveInput,
                   responses={200: DisputeSerializer, **ERRORS},
                   summary="Operator: release, refund, or split (refund_amount to the buyer, the rest released)")
    @idempotent
    def post(self, request, dispute_id):
        dispute = selectors.dispute_get(principal=request.user, dispute_id=dispute_id)
        data = ResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.dispute_resolve(actor=Actor.from_principal(request.user), dispute=dispute,
                                 outcome=data.validated_data["outcome"],
                                 refund_amount=data.validated_data.get("refund_amount"),
                                 note=data.validated_data["note"])
        return Response(_detail(request, dispute_id))
