"""Payout destinations, withdrawals, and the marketplace's payout policy."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.permissions import IsEndUser, IsOperator
from osdm.core.schema import ErrorResponse
from osdm.idempotency.decorators import idempotent

from . import selectors, services
from .serializers import (
    PayoutDestinationInput,
    PayoutDestinationSerializer,
    PayoutPolicyInput,
    PayoutPolicySerializer,
    ReasonInput,
    RejectInput,
    WithdrawalInput,
    WithdrawalSerializer,
)

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse,
          422: ErrorResponse}
TAG = ["payouts"]
IDEMPOTENCY = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                               description="Replays the first response for the same key and body.")


def _actor(request) -> Actor:
    return Actor.from_principal(request.user)


class PayoutDestinationListView(generics.ListAPIView):
    permission_classes = [IsEndUser]
    serializer_class = PayoutDestinationSerializer

    def get_queryset(self):
        return selectors.destination_list(user=self.request.user)

    @extend_schema(operation_id="payout_destinations_list", tags=TAG)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="payout_destinations_create", tags=TAG, request=PayoutDestinationInput,
                   responses={201: PayoutDestinationSerializer, **ERRORS},
                   summary="Seller: add a bank account (a Saudi IBAN, checked by its mod-97 check digits)")
    def post(self, request):
        data = PayoutDestinationInput(data=request.data)
        data.is_valid(raise_exception=True)
        destination = services.destination_add(actor=_actor(request), seller=request.user, **data.validated_data)
        return Response(PayoutDestinationSerializer(destination).data, status=status.HTTP_201_CREATED)


class PayoutDestinationDetailView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="payout_destinations_delete", tags=TAG,
                   responses={204: OpenApiResponse(description="removed"), **ERRORS},
                   summary="Seller: remove a bank account (withdrawals already made keep it)")
    def delete(self, request, destination_id):
        destination = selectors.destination_get(user=request.user, destination_id=destination_id)
        services.destination_remove(actor=_actor(request), destination=destination)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WithdrawalListView(generics.ListAPIView):
    serializer_class = WithdrawalSerializer

    def get_permissions(self):
        return [IsEndUser()] if self.request.method == "POST" else super().get_permissions()

    def get_queryset(self):
        params = self.request.query_params
        return selectors.withdrawal_list(principal=self.request.user, status=params.get("status"),
                                         seller_id=params.get("seller"))

    @extend_schema(operation_id="withdrawals_list", tags=TAG, parameters=[
        OpenApiParameter("status", str, enum=["requested", "approved", "paid", "failed", "rejected", "returned"]),
        OpenApiParameter("seller", str, description="Operator: one seller's withdrawals.")],
        summary="A seller's own withdrawals; the operator's: everyone's")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="withdrawals_create", tags=TAG, request=WithdrawalInput, parameters=[IDEMPOTENCY],
                   responses={201: WithdrawalSerializer, **ERRORS},
                   summary="Seller: withdraw from the wallet to a payout destination")
    @idempotent
    def post(self, request):
        data = WithdrawalInput(data=request.data)
        data.is_valid(raise_exception=True)
        withdrawal = services.withdrawal_request(actor=_actor(request), seller=request.user, **data.validated_data)
        withdrawal = selectors.withdrawal_get(principal=request.user, withdrawal_id=withdrawal.pk)
        return Response(WithdrawalSerializer(withdrawal, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class WithdrawalDetailView(APIView):
    @extend_schema(operation_id="withdrawals_retrieve", tags=TAG, responses={200: WithdrawalSerializer, **ERRORS})
    def get(self, request, withdrawal_id):
        return Response(WithdrawalSerializer(selectors.withdrawal_get(principal=request.user, withdrawal_id=withdrawal_id),
                                             context={"request": request}).data)


class _OperatorAction(APIView):
    permission_classes = [IsOperator]

    def _answer(self, request, withdrawal) -> Response:
        return Response(WithdrawalSerializer(selectors.withdrawal_get(principal=request.user, withdrawal_id=withdrawal.pk),
                                             context={"request": request}).data)


class WithdrawalApproveView(_OperatorAction):
    @extend_schema(operation_id="withdrawals_approve", tags=TAG, request=None, parameters=[IDEMPOTENCY],
                   responses={200: WithdrawalSerializer, **ERRORS},
                   summary="Operator: approve; the payout is sent to the marketplace's payout gateway")
    @idempotent
    def post(self, request, withdrawal_id):
        withdrawal = selectors.withdrawal_get(principal=request.user, withdrawal_id=withdrawal_id)
        return self._answer(request, services.withdrawal_approve(actor=_actor(request), withdrawal=withdrawal))


class WithdrawalRejectView(_OperatorAction):
    @extend_schema(operation_id="withdrawals_reject", tags=TAG, request=RejectInput, parameters=[IDEMPOTENCY],
                   responses={200: WithdrawalSerializer, **ERRORS},
                   summary="Operator: refuse, with a reason; the money goes back to the wallet")
    @idempotent
    def post(self, request, withdrawal_id):
        withdrawal = selectors.withdrawal_get(principal=request.user, withdrawal_id=withdrawal_id)
        data = RejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(request, services.withdrawal_reject(actor=_actor(request), withdrawal=withdrawal,
                                                                 reason=data.validated_data["reason"]))


class WithdrawalMarkReturnedView(_OperatorAction):
    @extend_schema(operation_id="withdrawals_mark_returned", tags=TAG, request=ReasonInput, parameters=[IDEMPOTENCY],
                   responses={200: WithdrawalSerializer, **ERRORS},
                   summary="Operator: a paid withdrawal came back from the bank; the money goes back to the wallet")
    @idempotent
    def post(self, request, withdrawal_id):
        withdrawal = selectors.withdrawal_get(principal=request.user, withdrawal_id=withdrawal_id)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(request, services.withdrawal_mark_returned(actor=_actor(request), withdrawal=withdrawal,
                                                                       reason=data.validated_data["reason"]))


class WithdrawalSyncView(_OperatorAction):
    @extend_schema(operation_id="withdrawals_sync", tags=TAG, request=None, responses={200: WithdrawalSerializer,
                                                                                       **ERRORS},
                   summary="Operator: ask the gateway about the payout now (beat does it every minute)")
    def post(self, request, withdrawal_id):
        withdrawal = selectors.withdrawal_get(principal=request.user, withdrawal_id=withdrawal_id)
        return self._answer(request, services.withdrawal_sync(withdrawal=withdrawal))


class PayoutPolicyView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="payout_policy_retrieve", tags=TAG, responses={200: PayoutPolicySerializer, **ERRORS})
    def get(self, request):
        return Response(PayoutPolicySerializer(services.policy_get()).data)

    @extend_schema(operation_id="payout_policy_update", tags=TAG, request=PayoutPolicyInput,
                   responses={200: PayoutPolicySerializer, **ERRORS},
                   summary="Operator: the minimum withdrawal, the auto-approval threshold, the payout gateway")
    def patch(self, request):
        data = PayoutPolicyInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(PayoutPolicySerializer(services.policy_update(actor=_actor(request),
                                                                      **data.validated_data)).data)
