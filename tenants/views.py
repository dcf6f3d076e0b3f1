"""The platform API (`/platform/v1/` on the base domain, platform key) and the tenant-side views of
a marketplace's own settings and secret keys (`/api/v1/`, secret key)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.permissions import IsOperator
from osdm.core.schema import ErrorResponse

from . import sample_data, selectors, services
from .authentication import PlatformKeyAuthentication
from .serializers import (
    MarketplaceSerializer,
    SecretKeyCreatedSerializer,
    SecretKeyInput,
    SecretKeySerializer,
    SuspendInput,
    TenantCreatedSerializer,
    TenantCreateInput,
    TenantSerializer,
    TenantUpdateInput,
)

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse}


class IsPlatform(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(getattr(request.user, "is_platform", False))


class PlatformView(APIView):
    authentication_classes = [PlatformKeyAuthentication]
    permission_classes = [IsPlatform]


def _created_key(key, raw) -> dict:
    return SecretKeyCreatedSerializer({**SecretKeySerializer(key).data, "secret": raw}).data


class TenantListCreateView(PlatformView, generics.ListAPIView):
    serializer_class = TenantSerializer

    def get_queryset(self):
        return selectors.tenant_list(status=self.request.query_params.get("status"))

    @extend_schema(operation_id="tenants_list", tags=["tenants"],
                   parameters=[OpenApiParameter("status", str, enum=["active", "suspended"])])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="tenants_create", tags=["tenants"], request=TenantCreateInput,
                   responses={201: TenantCreatedSerializer, **ERRORS},
                   summary="Launch a marketplace: tenant, domain and first secret key (shown once)")
    def post(self, request):
        data = TenantCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        with_samples = values.pop("sample_data")
        with_categories = values.pop("default_categories")
        made = services.tenant_create(**values)
        if with_categories or with_samples:
            sample_data.categories(tenant=made.tenant)
        if with_samples:
            sample_data.load(tenant=made.tenant)
        return Response({"tenant": TenantSerializer(made.tenant, context={"request": request}).data,
                         "secret_key": _created_key(made.key, made.secret_key)}, status=status.HTTP_201_CREATED)


class TenantDetailView(PlatformView):
    @extend_schema(operation_id="tenants_retrieve", tags=["tenants"], responses={200: TenantSerializer, **ERRORS})
    def get(self, request, slug: str):
        return Response(TenantSerializer(selectors.tenant_get(slug=slug), context={"request": request}).data)

    @extend_schema(operation_id="tenants_update", tags=["tenants"], request=TenantUpdateInput,
                   responses={200: TenantSerializer, **ERRORS}, summary="Change a marketplace's settings")
    def patch(self, request, slug: str):
        tenant = selectors.tenant_get(slug=slug)
        data = TenantUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_update(tenant=tenant, actor=Actor.platform(), **data.validated_data)
        return Response(TenantSerializer(tenant, context={"request": request}).data)

    @extend_schema(operation_id="tenants_delete", tags=["tenants"], responses={204: None, **ERRORS},
                   summary="Delete a marketplace and drop its schema (irreversible)")
    def delete(self, request, slug: str):
        services.tenant_delete(tenant=selectors.tenant_get(slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TenantSuspendView(PlatformView):
    @extend_schema(operation_id="tenants_suspend", tags=["tenants"], request=SuspendInput,
                   responses={200: TenantSerializer, **ERRORS})
    def post(self, request, slug: str):
        data = SuspendInput(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_suspend(tenant=selectors.tenant_get(slug=slug), actor=Actor.platform(),
                                         reason=data.validated_data["reason"])
        return Response(TenantSerializer(tenant, context={"request": request}).data)


class TenantActivateView(PlatformView):
    @extend_schema(operation_id="tenants_activate", tags=["tenants"], request=None,
                   responses={200: TenantSerializer, **ERRORS})
    def post(self, request, slug: str):
        tenant = services.tenant_activate(tenant=selectors.tenant_get(slug=slug), actor=Actor.platform())
        return Response(TenantSerializer(tenant, context={"request": request}).data)


class PlatformSecretKeysView(PlatformView, generics.ListAPIView):
    serializer_class = SecretKeySerializer

    def get_queryset(self):
        return selectors.secret_key_list(tenant_id=selectors.tenant_get(slug=self.kwargs["slug"]).pk)

    @extend_schema(operation_id="tenants_secret_keys_list", tags=["tenants"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="tenants_secret_keys_create", tags=["tenants"], request=SecretKeyInput,
                   responses={201: SecretKeyCreatedSerializer, **ERRORS},
                   summary="Issue a secret key for a marketplace (e.g. when its operator lost theirs)")
    def post(self, request, slug: str):
        tenant = selectors.tenant_get(slug=slug)
        data = SecretKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.secret_key_create(tenant=tenant, actor=Actor.platform(), name=data.validated_data["name"])
        return Response(_created_key(key, raw), status=status.HTTP_201_CREATED)


# --- the tenant's own view of itself (on its host) -----------------------------------------------


class MarketplaceView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="marketplace_retrieve", tags=["marketplace"],
                   responses={200: MarketplaceSerializer}, summary="The marketplace's public settings and branding")
    def get(self, request):
        return Response(MarketplaceSerializer(request.tenant).data)


class SecretKeysView(generics.ListAPIView):
    permission_classes = [IsOperator]
    serializer_class = SecretKeySerializer

    def get_queryset(self):
        return selectors.secret_key_list(tenant_id=self.request.tenant.pk)

    @extend_schema(operation_id="secret_keys_list", tags=["secret keys"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="secret_keys_create", tags=["secret keys"], request=SecretKeyInput,
                   responses={201: SecretKeyCreatedSerializer, **ERRORS},
                   summary="Create another secret key (rotation: create, deploy, revoke the old one)")
    def post(self, request):
        data = SecretKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.secret_key_create(tenant=request.tenant, actor=Actor.from_principal(request.user),
                                              name=data.validated_data["name"])
        return Response(_created_key(key, raw), status=status.HTTP_201_CREATED)


class SecretKeyRevokeView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="secret_keys_revoke", tags=["secret keys"], request=None,
                   responses={200: SecretKeySerializer, **ERRORS})
    def post(self, request, key_id: int):
        key = selectors.secret_key_get(tenant_id=request.tenant.pk, key_id=key_id)
        return Response(SecretKeySerializer(
            services.secret_key_revoke(key=key, actor=Actor.from_principal(request.user))).data)
