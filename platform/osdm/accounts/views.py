"""Auth and profile endpoints: thin wrappers over services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.errors import NotFound
from osdm.core.permissions import IsEndUser, IsOperator
from osdm.core.schema import ErrorResponse
from osdm.core.throttling import LoginRateThrottle, RegisterRateThrottle

from . import selectors, services
from .serializers import (
    MeUpdateInput,
    RefreshInput,
    RegisterInput,
    RegisterOutput,
    SellerProfileInput,
    SellerProfileSerializer,
    TokenInput,
    TokenPairSerializer,
    UserSerializer,
)
from .tokens import token_pair_issue

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse}


def _tokens(pair) -> dict:
    return TokenPairSerializer({"token_type": "Bearer", "access": pair.access, "refresh": pair.refresh,
                                "access_expires_at": pair.access_expires_at,
                                "refresh_expires_at": pair.refresh_expires_at}).data


class RegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RegisterRateThrottle]

    @extend_schema(operation_id="auth_register", request=RegisterInput, responses={201: RegisterOutput, **ERRORS},
                   tags=["auth"], summary="Create a buyer account (and log in)")
    def post(self, request):
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        pair = token_pair_issue(user=user, schema_name=request.tenant.schema_name)
        return Response({"user": UserSerializer(user).data, "tokens": _tokens(pair)}, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(operation_id="auth_token", request=TokenInput, responses={200: TokenPairSerializer, **ERRORS},
                   tags=["auth"], summary="Log in with e-mail and password")
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_authenticate(**data.validated_data)
        return Response(_tokens(token_pair_issue(user=user, schema_name=request.tenant.schema_name)))


class RefreshView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="auth_refresh", request=RefreshInput, responses={200: TokenPairSerializer, **ERRORS},
                   tags=["auth"], summary="Exchange a refresh token for a new token pair")
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.token_refresh(refresh=data.validated_data["refresh"],
                                      schema_name=request.tenant.schema_name)
        return Response(_tokens(pair))


class MeView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="me_retrieve", responses={200: UserSerializer, 401: ErrorResponse}, tags=["me"])
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(operation_id="me_update", request=MeUpdateInput, responses={200: UserSerializer, **ERRORS},
                   tags=["me"], summary="Update your name, language or password")
    def patch(self, request):
        data = MeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(actor=Actor.from_principal(request.user), user=request.user,
                                   **data.validated_data)
        return Response(UserSerializer(user).data)


class SellerProfileView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="me_seller_profile_retrieve",
                   responses={200: SellerProfileSerializer, 404: ErrorResponse}, tags=["me"])
    def get(self, request):
        profile = getattr(request.user, "seller_profile", None)
        if profile is None:
            raise NotFound(code="seller_profile_not_found")
        return Response(SellerProfileSerializer(profile).data)

    @extend_schema(operation_id="me_seller_profile_upsert", request=SellerProfileInput,
                   responses={200: SellerProfileSerializer, **ERRORS}, tags=["me"],
                   summary="Become a seller, or replace your seller profile")
    def put(self, request):
        data = SellerProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(SellerProfileSerializer(
            services.seller_profile_upsert(actor=Actor.from_principal(request.user), user=request.user,
                                           **data.validated_data)).data)

    @extend_schema(operation_id="me_seller_profile_update", request=SellerProfileInput(partial=True),
                   responses={200: SellerProfileSerializer, **ERRORS}, tags=["me"])
    def patch(self, request):
        data = SellerProfileInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(SellerProfileSerializer(
            services.seller_profile_upsert(actor=Actor.from_principal(request.user), user=request.user,
                                           **data.validated_data)).data)


class UserListView(generics.ListAPIView):
    """Operator: the marketplace's users."""

    permission_classes = [IsOperator]
    serializer_class = UserSerializer

    @extend_schema(operation_id="users_list", tags=["users"], parameters=[
        OpenApiParameter("email", str), OpenApiParameter("is_seller", bool)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        is_seller = self.request.query_params.get("is_seller")
        return selectors.user_list(
            email=self.request.query_params.get("email"),
            is_seller=None if is_seller is None else is_seller.lower() in {"1", "true", "yes"})


class UserDetailView(generics.RetrieveAPIView):
    permission_classes = [IsOperator]
    serializer_class = UserSerializer
    lookup_field = "pk"

    @extend_schema(operation_id="users_retrieve", tags=["users"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.user_list()
