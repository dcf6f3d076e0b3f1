"""`client.conversations`: messages between users about a listing, an order, a dispute, or direct;
`client.conversations.messages` for a conversation's messages."""

from __future__ import annotations

import builtins
from functools import cached_property

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Conversation, ConversationMessage

__all__ = ["AsyncConversationMessages", "AsyncConversations", "ConversationMessages", "Conversations"]

PATH = "/api/v1/conversations/"


def _one(conversation_id: str, action: str = "") -> str:
    return f"{PATH}{segment(conversation_id)}/{action}"


class ConversationMessages(SyncAPIResource):
    def list(self, conversation_id: str, *, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[ConversationMessage]:
        return self._client.get_page(_one(conversation_id, "messages/"), ConversationMessage, params={"limit": limit})

    def create(self, conversation_id: str, *, body: str, file_ids: builtins.list[str] | NotGiven = NOT_GIVEN
               ) -> ConversationMessage:
        """Send a message, with files uploaded with purpose `delivery`."""
        return self._client.post(_one(conversation_id, "messages"), ConversationMessage,
                                 body={"body": body, "file_ids": file_ids})


class Conversations(SyncAPIResource):
    @cached_property
    def messages(self) -> ConversationMessages:
        return ConversationMessages(self._client)

    def list(self, *, subject_type: str | NotGiven = NOT_GIVEN, subject_id: str | NotGiven = NOT_GIVEN,
             user: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Conversation]:
        """Your conversations (any, for the operator), latest message first."""
        return self._client.get_page(PATH, Conversation, params={
            "subject_type": subject_type, "subject_id": subject_id, "user": user, "limit": limit})

    def create(self, *, subject_type: str, body: str, subject_id: str | NotGiven | None = NOT_GIVEN,
               with_user_id: str | NotGiven | None = NOT_GIVEN,
               file_ids: builtins.list[str] | NotGiven = NOT_GIVEN) -> Conversation:
        """Start (or continue) the conversation about a subject (`listing`, `order`, `dispute`, with its
        `subject_id`) or a `direct` one `with_user_id`, with a first message."""
        return self._client.post(PATH, Conversation, body={
            "subject_type": subject_type, "body": body, "subject_id": subject_id, "with_user_id": with_user_id,
            "file_ids": file_ids})

    def retrieve(self, conversation_id: str) -> Conversation:
        return self._client.get(_one(conversation_id), Conversation)

    def read(self, conversation_id: str) -> Conversation:
        """Mark the conversation read up to now."""
        return self._client.post(_one(conversation_id, "read"), Conversation)


class AsyncConversationMessages(AsyncAPIResource):
    def list(self, conversation_id: str, *, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[ConversationMessage]:
        return self._client.get_page(_one(conversation_id, "messages/"), ConversationMessage, params={"limit": limit})

    async def create(self, conversation_id: str, *, body: str, file_ids: builtins.list[str] | NotGiven = NOT_GIVEN
                     ) -> ConversationMessage:
        """Send a message, with files uploaded with purpose `delivery`."""
        return await self._client.post(_one(conversation_id, "messages"), ConversationMessage,
                                       body={"body": body, "file_ids": file_ids})


class AsyncConversations(AsyncAPIResource):
    @cached_property
    def messages(self) -> AsyncConversationMessages:
        return AsyncConversationMessages(self._client)

    def list(self, *, subject_type: str | NotGiven = NOT_GIVEN, subject_id: str | NotGiven = NOT_GIVEN,
             user: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Conversation]:
        """Your conversations (any, for the operator), latest message first."""
        return self._client.get_page(PATH, Conversation, params={
            "subject_type": subject_type, "subject_id": subject_id, "user": user, "limit": limit})

    async def create(self, *, subject_type: str, body: str, subject_id: str | NotGiven | None = NOT_GIVEN,
                     with_user_id: str | NotGiven | None = NOT_GIVEN,
                     file_ids: builtins.list[str] | NotGiven = NOT_GIVEN) -> Conversation:
        """Start (or continue) the conversation about a subject (`listing`, `order`, `dispute`, with its
        `subject_id`) or a `direct` one `with_user_id`, with a first message."""
        return await self._client.post(PATH, Conversation, body={
            "subject_type": subject_type, "body": body, "subject_id": subject_id, "with_user_id": with_user_id,
            "file_ids": file_ids})

    async def retrieve(self, conversation_id: str) -> Conversation:
        return await self._client.get(_one(conversation_id), Conversation)

    async def read(self, conversation_id: str) -> Conversation:
        """Mark the conversation read up to now."""
        return await self._client.post(_one(conversation_id, "read"), Conversation)
