"""The user's notifications and notification preferences."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.core.errors import NotFound
from osdm.core.permissions import IsEndUser
from osdm.core.schema import ErrorResponse

from . import services
from .models import Notification, NotificationPreference
from .serializers import NotificationSerializer, PreferenceInput, PreferenceSerializer, ReadInput
from .templates import TEMPLATES

TAG = ["notifications"]
Marked = inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()})


class NotificationListView(generics.ListAPIView):
    permission_classes = [IsEndUser]
    serializer_class = NotificationSerializer

    def get_queryset(self):
        qs = Notification.objects.filter(user=self.request.user, in_app=True)
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(operation_id="notifications_list", tags=TAG, parameters=[OpenApiParameter("unread", bool)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationReadView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="notifications_mark_read", tags=TAG, request=ReadInput,
                   responses={200: Marked, 400: ErrorResponse},
                   summary="Mark notifications read: the given ids, or all of them")
    def post(self, request):
        data = ReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"marked": services.mark_read(user=request.user,
                                                      notification_ids=data.validated_data.get("ids"))})


class PreferenceListView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="notification_preferences_list", tags=TAG,
                   responses={200: PreferenceSerializer(many=True)})
    def get(self, request):
        saved = {p.kind: p for p in NotificationPreference.objects.filter(user=request.user)}
        rows = [saved.get(kind) or NotificationPreference(kind=kind) for kind in sorted(TEMPLATES)]
        return Response({"next": None, "previous": None, "results": PreferenceSerializer(rows, many=True).data})


class PreferenceDetailView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="notification_preferences_set", tags=TAG, request=PreferenceInput,
                   responses={200: PreferenceSerializer, 400: ErrorResponse, 404: ErrorResponse})
    def put(self, request, kind: str):
        if kind not in TEMPLATES:
            raise NotFound(code="unknown_notification_kind")
        data = PreferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(PreferenceSerializer(services.preference_set(user=request.user, kind=kind,
                                                                     **data.validated_data)).data)
