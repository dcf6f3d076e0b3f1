"""Conversations and their messages, read marks, the block list, and the messaging policy."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from osdm.audit.services import Actor
from osdm.core.pagination import CursorPagination
from osdm.core.permissions import IsEndUser, IsOperator
from osdm.core.schema import ErrorResponse
from osdm.idempotency.decorators import idempotent

from . import selectors, services
from .models import SubjectType
from .serializers import (
    BlockInput,
    BlockSerializer,
    ConversationFilterInput,
    ConversationMessageInput,
    ConversationMessageSerializer,
    ConversationSerializer,
    ConversationStartInput,
    MessagingPolicyInput,
    MessagingPolicySerializer,
)

ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse}
TAG = ["messaging"]


def _actor(request) -> Actor:
    return Actor.from_principal(request.user)


def _conversation(request, conversation_id) -> dict:
    return ConversationSerializer(selectors.conversation_get(principal=request.user,
                                                             conversation_id=conversation_id)).data


def _message(request, conversation, message) -> dict:
    return ConversationMessageSerializer(message, context={"conversation": conversation,
                                               "operator": getattr(request.user, "is_operator", False)}).data


class ConversationPagination(CursorPagination):
    ordering = ("-last_message_at", "-id")


class ConversationListCreateView(generics.ListAPIView):
    serializer_class = ConversationSerializer
    pagination_class = ConversationPagination

    def get_permissions(self):
        return [IsEndUser()] if self.request.method == "POST" else super().get_permissions()

    def get_queryset(self):
        params = ConversationFilterInput(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        return selectors.conversation_list(principal=self.request.user, user_id=values.get("user"),
                                           subject_type=values.get("subject_type"),
                                           subject_id=values.get("subject_id"))

    @extend_schema(operation_id="conversations_list", tags=TAG, parameters=[
        OpenApiParameter("user", str, description="Conversations with this user. Operators: any user's "
                                                  "conversations, unread counts told from that user's side."),
        OpenApiParameter("subject_type", str, enum=SubjectType.values),
        OpenApiParameter("subject_id", str, description="The listing's, order's or dispute's id.")],
        summary="Your conversations, newest activity first (operators: everyone's)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="conversations_create", tags=TAG, request=ConversationStartInput,
                   responses={201: ConversationSerializer, 200: ConversationSerializer, **ERRORS},
                   summary="Write about a listing, an order or a dispute, or directly: starts the conversation "
                           "(201) or adds to the one you already have about it (200)")
    @idempotent
    def post(self, request):
        data = ConversationStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation, _message, created = services.conversation_start(
            actor=_actor(request), principal=request.user, **data.validated_data)
        return Response(_conversation(request, conversation.pk),
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ConversationDetailView(APIView):
    @extend_schema(operation_id="conversations_retrieve", tags=TAG, responses={200: ConversationSerializer, **ERRORS})
    def get(self, request, conversation_id):
        return Response(_conversation(request, conversation_id))


class ConversationMessagesView(generics.ListAPIView):
    serializer_class = ConversationMessageSerializer

    def get_queryset(self):
        self.conversation = selectors.conversation_get(principal=self.request.user,
                                                       conversation_id=self.kwargs["conversation_id"])
        return selectors.message_list(conversation=self.conversation)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "conversation": self.conversation,
                "operator": getattr(self.request.user, "is_operator", False)}

    @extend_schema(operation_id="conversations_messages_list", tags=TAG,
                   summary="The conversation's messages, newest first, each with its read receipt")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ConversationMessageCreateView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="conversations_messages_create", tags=TAG, request=ConversationMessageInput,
                   responses={201: ConversationMessageSerializer, **ERRORS}, summary="Participant: write a message (with files)")
    @idempotent
    def post(self, request, conversation_id):
        conversation = selectors.conversation_get(principal=request.user, conversation_id=conversation_id)
        data = ConversationMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_send(actor=_actor(request), conversation=conversation, principal=request.user,
                                        **data.validated_data)
        return Response(_message(request, conversation, message), status=status.HTTP_201_CREATED)


class ConversationReadView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="conversations_read", tags=TAG, request=None,
                   responses={200: ConversationSerializer, **ERRORS},
                   summary="Participant: mark everything up to now read (the other side's read receipt)")
    def post(self, request, conversation_id):
        conversation = selectors.conversation_get(principal=request.user, conversation_id=conversation_id)
        services.conversation_mark_read(conversation=conversation, principal=request.user)
        return Response(_conversation(request, conversation_id))


class BlockListCreateView(generics.ListAPIView):
    permission_classes = [IsEndUser]
    serializer_class = BlockSerializer

    def get_queryset(self):
        return selectors.block_list(principal=self.request.user)

    @extend_schema(operation_id="blocks_list", tags=TAG, summary="The users you blocked")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="blocks_create", tags=TAG, request=BlockInput,
                   responses={201: BlockSerializer, 200: BlockSerializer, **ERRORS},
                   summary="Block a user: neither of you can write to the other until you unblock them")
    def post(self, request):
        data = BlockInput(data=request.data)
        data.is_valid(raise_exception=True)
        block, created = services.block_create(actor=_actor(request), blocker=request.user,
                                               user_id=data.validated_data["user_id"])
        block = selectors.block_list(principal=request.user).get(pk=block.pk)
        return Response(BlockSerializer(block).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class BlockDetailView(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(operation_id="blocks_delete", tags=TAG, request=None,
                   responses={204: OpenApiResponse(description="Unblocked."), **ERRORS}, summary="Unblock a user")
    def delete(self, request, user_id):
        services.block_delete(actor=_actor(request), blocker=request.user, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessagingPolicyView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(operation_id="messaging_policy_retrieve", tags=TAG,
                   responses={200: MessagingPolicySerializer, **ERRORS})
    def get(self, request):
        return Response(MessagingPolicySerializer(services.policy_get()).data)

    @extend_schema(operation_id="messaging_policy_update", tags=TAG, request=MessagingPolicyInput,
                   responses={200: MessagingPolicySerializer, **ERRORS},
                   summary="Operator: allow direct conversations; mask contact details in new messages")
    def patch(self, request):
        data = MessagingPolicyInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(MessagingPolicySerializer(services.policy_update(actor=_actor(request),
                                                                         **data.validated_data)).data)
