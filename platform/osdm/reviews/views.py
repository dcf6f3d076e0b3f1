"""Writing, reading, replying to and moderating reviews."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.errors import ValidationFailed
from osdm.core.permissions import IsEndUser, IsOperator
from osdm.core.schema import ErrorResponse
from osdm.orders import selectors as order_selectors

from . import selectors, services
from .models import Review
from .serializers import HideInput, ReplyInput, ReviewInput, ReviewSerializer

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse}
TAG = ["reviews"]


class OrderReviewsView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="orders_reviews_create", tags=TAG, request=ReviewInput,
                   responses={201: ReviewSerializer, **ERRORS},
                   summary="Review the other party of a completed order (once; hidden until both reviewed)")
    def post(self, request, order_id):
        order = order_selectors.order_get(principal=request.user, order_id=order_id)
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_create(actor=Actor.from_principal(request.user), order=order,
                                        principal=request.user, **data.validated_data)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ReviewListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = ReviewSerializer

    def get_queryset(self):
        params = self.request.query_params
        role = params.get("role")
        if role and role not in Review.Role.values:
            raise ValidationFailed(fields={"role": ["One of: buyer, seller."]})
        return selectors.review_list(principal=self.request.user, listing_id=params.get("listing"),
                                     subject_id=params.get("user"), order_id=params.get("order"), role=role)

    @extend_schema(operation_id="reviews_list", tags=TAG, parameters=[
        OpenApiParameter("listing", str), OpenApiParameter("user", str, description="reviews of this user"),
        OpenApiParameter("order", str), OpenApiParameter("role", str, enum=Review.Role.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReviewReplyView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="reviews_reply", tags=TAG, request=ReplyInput,
                   responses={200: ReviewSerializer, **ERRORS}, summary="The reviewed party replies, once")
    def post(self, request, review_id):
        review = selectors.review_get(principal=request.user, review_id=review_id)
        data = ReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ReviewSerializer(services.review_reply(actor=Actor.from_principal(request.user),
                                                               review=review, principal=request.user,
                                                               text=data.validated_data["text"])).data)


class ReviewHideView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="reviews_hide", tags=TAG, request=HideInput,
                   responses={200: ReviewSerializer, **ERRORS}, summary="Operator: hide a review, with a reason")
    def post(self, request, review_id):
        review = selectors.review_get(principal=request.user, review_id=review_id)
        data = HideInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ReviewSerializer(services.review_hide(actor=Actor.from_principal(request.user),
                                                              review=review,
                                                              reason=data.validated_data["reason"])).data)
