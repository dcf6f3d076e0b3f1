"""Escrows and the seller's wallet."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.permissions import IsEndUser
from osdm.core.schema import ErrorResponse
from osdm.idempotency.decorators import idempotent

from . import selectors, services
from .serializers import EscrowSerializer, WalletSerializer, WalletTransactionSerializer

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse}


class EscrowListView(generics.ListAPIView):
    serializer_class = EscrowSerializer

    def get_queryset(self):
        params = self.request.query_params
        return selectors.escrow_list(principal=self.request.user, role=params.get("role"),
                                     status=params.get("status"), market=params.get("market"))

    @extend_schema(operation_id="escrows_list", tags=["escrow"], parameters=[
        OpenApiParameter("role", str, enum=["buyer", "seller"]), OpenApiParameter("status", str),
        OpenApiParameter("market", str, enum=["products", "services", "projects"])])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EscrowDetailView(APIView):
    @extend_schema(operation_id="escrows_retrieve", tags=["escrow"], responses={200: EscrowSerializer, **ERRORS})
    def get(self, request, escrow_id):
        return Response(EscrowSerializer(selectors.escrow_get(principal=request.user, escrow_id=escrow_id)).data)


class EscrowReleaseView(APIView):
    @extend_schema(operation_id="escrows_release", tags=["escrow"], request=None,
                   responses={200: EscrowSerializer, **ERRORS},
                   summary="Buyer or operator: release the held money to the seller (accepts the delivery)")
    @idempotent
    def post(self, request, escrow_id):
        escrow = selectors.escrow_get(principal=request.user, escrow_id=escrow_id)
        escrow = services.escrow_release_by(escrow=escrow, principal=request.user,
                                            actor=Actor.from_principal(request.user))
        return Response(EscrowSerializer(selectors.escrow_get(principal=request.user, escrow_id=escrow.pk)).data)


class WalletView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="wallet_retrieve", tags=["wallet"], responses={200: WalletSerializer})
    def get(self, request):
        return Response({"balances": selectors.wallet(user=request.user)})


class WalletTransactionsView(generics.ListAPIView):
    permission_classes = [IsEndUser]
    serializer_class = WalletTransactionSerializer

    def get_queryset(self):
        return selectors.wallet_transactions(user=self.request.user,
                                             currency=self.request.query_params.get("currency"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(),
                   "order_ids": selectors.order_ids_of([transfer.reference for transfer in page])}
        return self.get_paginated_response(self.get_serializer_class()(page, many=True, context=context).data)

    @extend_schema(operation_id="wallet_transactions_list", tags=["wallet"],
                   parameters=[OpenApiParameter("currency", str)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
