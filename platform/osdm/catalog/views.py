"""Categories, listings and search."""

from __future__ import annotations

import base64

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.errors import NotFound, ValidationFailed
from osdm.core.permissions import IsEndUser, IsOperator
from osdm.core.schema import ErrorResponse
from tenants.models import CURRENCIES
from tenants.selectors import current_tenant

from . import selectors, services
from .models import Listing, Market
from .serializers import (
    CategoryCreateInput,
    CategorySerializer,
    CategoryUpdateInput,
    ListingInput,
    ListingSerializer,
    ListingSummarySerializer,
    ListingUpdateInput,
    ModerateInput,
    SearchInput,
    SearchResultsSerializer,
)

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse}


def _actor(request) -> Actor:
    return Actor.from_principal(request.user)


class CategoryListView(APIView):
    """The whole tree of a market in one response (a few hundred rows): storefronts draw menus from it."""

    authentication_classes = APIView.authentication_classes
    permission_classes = [AllowAny]

    def get_permissions(self):
        return [IsOperator()] if self.request.method == "POST" else [AllowAny()]

    @extend_schema(operation_id="categories_list", tags=["catalog"],
                   parameters=[OpenApiParameter("market", str, enum=Market.values),
                               OpenApiParameter("include_inactive", bool)],
                   responses={200: CategorySerializer(many=True)})
    def get(self, request):
        market = request.query_params.get("market")
        if market and market not in Market.values:
            raise ValidationFailed(fields={"market": [f"One of: {', '.join(Market.values)}."]})
        include_inactive = (request.query_params.get("include_inactive") == "true"
                            and getattr(request.user, "is_operator", False))
        rows = selectors.category_tree(market=market, include_inactive=include_inactive)
        return Response({"next": None, "previous": None, "results": CategorySerializer(rows, many=True).data})

    @extend_schema(operation_id="categories_create", tags=["catalog"], request=CategoryCreateInput,
                   responses={201: CategorySerializer, **ERRORS})
    def post(self, request):
        data = CategoryCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        parent_id = values.pop("parent_id", None)
        parent = selectors.category_get(category_id=parent_id) if parent_id else None
        category = services.category_create(actor=_actor(request), parent=parent, **values)
        return Response(CategorySerializer(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="categories_update", tags=["catalog"], request=CategoryUpdateInput,
                   responses={200: CategorySerializer, **ERRORS})
    def patch(self, request, category_id: int):
        category = selectors.category_get(category_id=category_id)
        data = CategoryUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "parent_id" in values:
            parent_id = values.pop("parent_id")
            values["parent"] = selectors.category_get(category_id=parent_id) if parent_id else None
        return Response(CategorySerializer(services.category_update(actor=_actor(request), category=category,
                                                                    **values)).data)

    @extend_schema(operation_id="categories_delete", tags=["catalog"], responses={204: None, **ERRORS})
    def delete(self, request, category_id: int):
        services.category_delete(actor=_actor(request), category=selectors.category_get(category_id=category_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CategoryLoadDefaultView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="categories_load_default", tags=["catalog"], request=None,
                   responses={200: {"type": "object", "properties": {"created": {"type": "integer"}}}},
                   summary="Add the default bilingual taxonomy (idempotent; edits are kept)")
    def post(self, request):
        return Response({"created": services.taxonomy_load(actor=_actor(request))})


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = raw.split(":", 1)
        offset = int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotFound("Invalid cursor", code="invalid_cursor") from exc
    if kind != "o" or not 0 <= offset <= 10_000:
        raise NotFound("Invalid cursor", code="invalid_cursor")
    return offset


class ListingListCreateView(APIView):
    def get_permissions(self):
        return [IsEndUser()] if self.request.method == "POST" else [AllowAny()]

    @extend_schema(operation_id="listings_search", tags=["catalog"], parameters=[SearchInput],
                   responses={200: SearchResultsSerializer, 400: ErrorResponse},
                   summary="Search published listings, with filters, ordering and facets")
    def get(self, request):
        data = SearchInput(data=request.query_params.dict())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        params = selectors.SearchParams(
            q=values.get("q", ""), market=values.get("market"), category_id=values.get("category"),
            min_price=values.get("min_price"), max_price=values.get("max_price"), min_rating=values.get("rating"),
            seller_id=values.get("seller"), max_delivery_days=values.get("delivery_days"),
            tags=[t.strip() for t in values.get("tags", "").split(",") if t.strip()],
            ordering=values.get("ordering", "relevance"))
        limit = values.get("limit", 20)
        offset = _decode_offset(values.get("cursor"))
        found = selectors.listing_search(params, offset=offset, limit=limit,
                                         exponent=CURRENCIES.get(current_tenant().currency, 2))

        def link(new_offset: int) -> str:
            query = request.query_params.copy()
            query["cursor"] = _encode_offset(new_offset)
            return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

        return Response({
            "next": link(offset + limit) if found.more else None,
            "previous": link(max(offset - limit, 0)) if offset else None,
            "results": ListingSummarySerializer.render_many(found.listings),
            "facets": found.facets,
        })

    @extend_schema(operation_id="listings_create", tags=["catalog"], request=ListingInput,
                   responses={201: ListingSerializer, **ERRORS}, summary="Sell a product or service, or post a project")
    def post(self, request):
        data = ListingInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        listing = services.listing_create(actor=_actor(request), owner=request.user,
                                          currency=current_tenant().currency, **values)
        listing = selectors.listing_visible(listing_id=listing.pk, principal=request.user)
        return Response(ListingSerializer(listing).data, status=status.HTTP_201_CREATED)


class ListingDetailView(APIView):
    def get_permissions(self):
        return [IsEndUser()] if self.request.method == "PATCH" else [AllowAny()]

    @extend_schema(operation_id="listings_retrieve", tags=["catalog"], responses={200: ListingSerializer, **ERRORS})
    def get(self, request, listing_id):
        return Response(ListingSerializer(selectors.listing_visible(listing_id=listing_id,
                                                                    principal=request.user)).data)

    @extend_schema(operation_id="listings_update", tags=["catalog"], request=ListingUpdateInput,
                   responses={200: ListingSerializer, **ERRORS})
    def patch(self, request, listing_id):
        listing = services.listing_owned(listing_id=listing_id, user=request.user)
        data = ListingUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.listing_update(actor=_actor(request), listing=listing, **data.validated_data)
        return Response(ListingSerializer(selectors.listing_visible(listing_id=listing_id,
                                                                    principal=request.user)).data)


def _status_view(target: str, verb: str, summary: str):
    class StatusView(APIView):
        permission_classes = [IsEndUser]

        @extend_schema(operation_id=f"listings_{verb}", tags=["catalog"], request=None,
                       responses={200: ListingSerializer, **ERRORS}, summary=summary)
        def post(self, request, listing_id):
            listing = services.listing_owned(listing_id=listing_id, user=request.user)
            services.listing_set_status(actor=_actor(request), listing=listing, status=target)
            return Response(ListingSerializer(selectors.listing_visible(listing_id=listing_id,
                                                                        principal=request.user)).data)

    StatusView.__name__ = f"Listing{target.title()}View"
    return StatusView


ListingPublishView = _status_view(Listing.Status.PUBLISHED, "publish", "Publish (or resume) your listing")
ListingPauseView = _status_view(Listing.Status.PAUSED, "pause", "Pause your listing")
ListingCloseView = _status_view(Listing.Status.CLOSED, "close", "Close your listing for good")


class ListingModerateView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="listings_moderate", tags=["catalog"], request=ModerateInput,
                   responses={200: ListingSerializer, **ERRORS}, summary="Operator: hide a listing (with a reason) or show it")
    def post(self, request, listing_id):
        listing = selectors.listing_visible(listing_id=listing_id, principal=request.user)
        data = ModerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        listing = services.listing_moderate(actor=_actor(request), listing=listing, **data.validated_data)
        return Response(ListingSerializer(selectors.listing_visible(listing_id=listing.pk,
                                                                    principal=request.user)).data)


class MyListingsView(generics.ListAPIView):
    """Seller inventory, or a buyer's posted projects: every status."""

    permission_classes = [IsEndUser]
    serializer_class = ListingSummarySerializer

    def get_queryset(self):
        params = self.request.query_params
        market, wanted = params.get("market"), params.get("status")
        if market and market not in Market.values:
            raise ValidationFailed(fields={"market": [f"One of: {', '.join(Market.values)}."]})
        if wanted and wanted not in Listing.Status.values:
            raise ValidationFailed(fields={"status": [f"One of: {', '.join(Listing.Status.values)}."]})
        return selectors.listings_of_owner(owner=self.request.user, market=market, status=wanted)

    @extend_schema(operation_id="me_listings_list", tags=["catalog"], parameters=[
        OpenApiParameter("market", str, enum=Market.values), OpenApiParameter("status", str, enum=Listing.Status.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
