"""Orders, deliveries, revisions, proposals and contracts."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.permissions import IsAuthenticated, IsEndUser
from osdm.core.schema import ErrorResponse
from osdm.idempotency.decorators import idempotent

from . import selectors, services
from .models import OrderStatus, Proposal
from .serializers import (
    CancelInput,
    DeliverInput,
    MessageInput,
    MilestoneSerializer,
    OrderCreateInput,
    OrderDeliverySerializer,
    OrderDetailSerializer,
    OrderSerializer,
    ProposalInput,
    ProposalSerializer,
)

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse}
TAG = ["orders"]


def _actor(request) -> Actor:
    return Actor.from_principal(request.user)


def _detail(request, order) -> Response:
    if {"milestones", "deliveries", "status_changes", "payments"} <= set(getattr(order, "_prefetched_objects_cache", {})):
        return Response(OrderDetailSerializer(order).data)  # fresh from the service, with all it shows
    return Response(OrderDetailSerializer(selectors.order_get(principal=request.user, order_id=order.pk)).data)


class OrderListCreateView(generics.ListAPIView):
    serializer_class = OrderSerializer

    def get_permissions(self):
        return [IsEndUser()] if self.request.method == "POST" else super().get_permissions()

    def get_queryset(self):
        params = self.request.query_params
        wanted = params.get("status")
        if wanted and wanted not in OrderStatus.values:
            from osdm.core.errors import ValidationFailed

            raise ValidationFailed(fields={"status": [f"One of: {', '.join(OrderStatus.values)}."]})
        return selectors.order_list(principal=self.request.user, role=params.get("role"), market=params.get("market"),
                                    status=wanted)

    @extend_schema(operation_id="orders_list", tags=TAG, parameters=[
        OpenApiParameter("role", str, enum=["buyer", "seller"]),
        OpenApiParameter("market", str, enum=["products", "services", "projects"]),
        OpenApiParameter("status", str, enum=OrderStatus.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="orders_create", tags=TAG, request=OrderCreateInput,
                   responses={201: OrderDetailSerializer, **ERRORS},
                   summary="Buy a product or order a service package (pending payment)")
    @idempotent
    def post(self, request):
        data = OrderCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        order = services.order_place(actor=_actor(request), buyer=request.user, listing_id=values["listing_id"],
                                     package_tier=values.get("package"), requirements=values.get("requirements"))
        response = _detail(request, order)
        response.status_code = status.HTTP_201_CREATED
        return response


class OrderDetailView(APIView):
    @extend_schema(operation_id="orders_retrieve", tags=TAG, responses={200: OrderDetailSerializer, **ERRORS})
    def get(self, request, order_id):
        return Response(OrderDetailSerializer(selectors.order_get(principal=request.user, order_id=order_id)).data)


class OrderDeliverView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="orders_deliver", tags=TAG, request=DeliverInput,
                   responses={201: OrderDeliverySerializer, **ERRORS},
                   summary="Seller: deliver a service order, or a milestone of a contract")
    def post(self, request, order_id):
        order = selectors.order_get(principal=request.user, order_id=order_id)
        data = DeliverInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        delivery = services.order_deliver(actor=_actor(request), order=order, principal=request.user,
                                          message=values["message"], file_ids=values["file_ids"],
                                          milestone_id=values.get("milestone_id"))
        return Response(OrderDeliverySerializer(delivery).data, status=status.HTTP_201_CREATED)


class OrderCompleteView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="orders_complete", tags=TAG, request=None,
                   responses={200: OrderDetailSerializer, **ERRORS},
                   summary="Buyer: accept the delivery (releases its escrow)")
    @idempotent
    def post(self, request, order_id):
        order = selectors.order_get(principal=request.user, order_id=order_id)
        return _detail(request, services.order_complete(actor=_actor(request), order=order, principal=request.user))


class OrderRevisionView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="orders_request_revision", tags=TAG, request=MessageInput,
                   responses={200: OrderDetailSerializer, **ERRORS},
                   summary="Buyer: send the delivery back for a revision (while revisions remain)")
    def post(self, request, order_id):
        order = selectors.order_get(principal=request.user, order_id=order_id)
        data = MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _detail(request, services.order_request_revision(actor=_actor(request), order=order,
                                                                principal=request.user,
                                                                message=data.validated_data["message"]))


class OrderCancelView(APIView):
    @extend_schema(operation_id="orders_cancel", tags=TAG, request=CancelInput,
                   responses={200: OrderDetailSerializer, **ERRORS})
    @idempotent
    def post(self, request, order_id):
        order = selectors.order_get(principal=request.user, order_id=order_id)
        data = CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _detail(request, services.order_cancel(actor=_actor(request), order=order, principal=request.user,
                                                      reason=data.validated_data["reason"]))


def _milestone_view(action: str, summary: str, body=None, moves_money: bool = False):
    """`body`: the input serializer whose fields become the service's keyword arguments."""
    def post(self, request, order_id, milestone_id):
        order = selectors.order_get(principal=request.user, order_id=order_id)
        kwargs = {}
        if body is not None:
            data = body(data=request.data)
            data.is_valid(raise_exception=True)
            kwargs = dict(data.validated_data)
        service = {"accept": services.milestone_accept, "revision": services.milestone_request_revision,
                   "cancel": services.milestone_cancel}[action]
        milestone = service(actor=_actor(request), order=order, milestone_id=milestone_id, principal=request.user,
                            **kwargs)
        return Response(MilestoneSerializer(milestone).data)

    post = extend_schema(operation_id=f"orders_milestones_{action}", tags=TAG, request=body,
                         responses={200: MilestoneSerializer, **ERRORS}, summary=summary)(
        idempotent(post) if moves_money else post)
    # Cancelling is the operator's too (as for orders); accepting and revisions are the buyer's.
    permissions = [IsAuthenticated] if action == "cancel" else [IsEndUser]
    view = type(f"Milestone{action.title()}View", (APIView,), {"permission_classes": permissions, "post": post})
    return view


MilestoneAcceptView = _milestone_view("accept", "Buyer: accept a delivered milestone (releases its escrow)",
                                      moves_money=True)
MilestoneRevisionView = _milestone_view("revision", "Buyer: send a delivered milestone back", body=MessageInput)
MilestoneCancelView = _milestone_view(
    "cancel", "Drop a milestone: unfunded, either party; funded, the seller or the operator, refunding the buyer",
    body=CancelInput, moves_money=True)


class LibraryView(generics.ListAPIView):
    permission_classes = [IsEndUser]
    serializer_class = OrderSerializer

    def get_queryset(self):
        return selectors.library(principal=self.request.user)

    @extend_schema(operation_id="me_library_list", tags=TAG, summary="Buyer: the products you own")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ListingProposalsView(generics.ListAPIView):
    serializer_class = ProposalSerializer

    def get_permissions(self):
        return [IsEndUser()]

    def get_queryset(self):
        return selectors.proposals_of_listing(principal=self.request.user, listing_id=self.kwargs["listing_id"])

    @extend_schema(operation_id="listings_proposals_list", tags=TAG,
                   summary="The project's proposals (all, for its poster; your own, for a seller)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="listings_proposals_create", tags=TAG, request=ProposalInput,
                   responses={201: ProposalSerializer, **ERRORS}, summary="Seller: propose on a project")
    def post(self, request, listing_id):
        data = ProposalInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        proposal = services.proposal_create(actor=_actor(request), seller=request.user, listing_id=listing_id, **values)
        return Response(ProposalSerializer(proposal).data, status=status.HTTP_201_CREATED)


class ProposalListView(generics.ListAPIView):
    permission_classes = [IsEndUser]
    serializer_class = ProposalSerializer

    def get_queryset(self):
        params = self.request.query_params
        wanted = params.get("status")
        if wanted and wanted not in Proposal.Status.values:
            from osdm.core.errors import ValidationFailed

            raise ValidationFailed(fields={"status": [f"One of: {', '.join(Proposal.Status.values)}."]})
        return selectors.proposal_list(principal=self.request.user, role=params.get("role"), status=wanted)

    @extend_schema(operation_id="proposals_list", tags=TAG, parameters=[
        OpenApiParameter("role", str, enum=["buyer", "seller"]),
        OpenApiParameter("status", str, enum=Proposal.Status.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ProposalAcceptView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="proposals_accept", tags=TAG, request=None,
                   responses={201: OrderDetailSerializer, **ERRORS},
                   summary="Poster: hire — the proposal becomes a contract with milestones")
    def post(self, request, proposal_id):
        proposal = selectors.proposal_get(principal=request.user, proposal_id=proposal_id)
        order = services.proposal_accept(actor=_actor(request), proposal=proposal, principal=request.user)
        response = _detail(request, order)
        response.status_code = status.HTTP_201_CREATED
        return response


def _proposal_view(action: str, summary: str):
    class ProposalActionView(APIView):
        permission_classes = [IsEndUser]

        @extend_schema(operation_id=f"proposals_{action}", tags=TAG, request=None,
                       responses={200: ProposalSerializer, **ERRORS}, summary=summary)
        def post(self, request, proposal_id):
            proposal = selectors.proposal_get(principal=request.user, proposal_id=proposal_id)
            service = {"decline": services.proposal_decline, "withdraw": services.proposal_withdraw}[action]
            return Response(ProposalSerializer(service(actor=_actor(request), proposal=proposal,
                                                       principal=request.user)).data)

    ProposalActionView.__name__ = f"Proposal{action.title()}View"
    return ProposalActionView


ProposalDeclineView = _proposal_view("decline", "Poster: decline a proposal")
ProposalWithdrawView = _proposal_view("withdraw", "Seller: withdraw your proposal")
