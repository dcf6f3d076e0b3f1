"""`client.blocks` (users you blocked from messaging you) and `client.messaging_policy` (operator:
direct messages allowed, contact details masked)."""

from __future__ import annotations

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Block, MessagingPolicy

__all__ = ["AsyncBlocks", "AsyncMessagingPolicyResource", "Blocks", "MessagingPolicyResource"]

BLOCKS_PATH = "/api/v1/blocks/"
POLICY_PATH = "/api/v1/messaging-policy"


class Blocks(SyncAPIResource):
    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Block]:
        return self._client.get_page(BLOCKS_PATH, Block, params={"limit": limit})

    def create(self, *, user_id: str) -> Block:
        """Block a user: they can no longer message you."""
        return self._client.post(BLOCKS_PATH, Block, body={"user_id": user_id})

    def delete(self, user_id: str) -> None:
        """Unblock a user."""
        self._client.delete(f"{BLOCKS_PATH}{segment(user_id)}/")


class MessagingPolicyResource(SyncAPIResource):
    def retrieve(self) -> MessagingPolicy:
        return self._client.get(POLICY_PATH, MessagingPolicy)

    def update(self, *, allow_direct: bool | NotGiven = NOT_GIVEN,
               mask_contact_details: bool | NotGiven = NOT_GIVEN) -> MessagingPolicy:
        return self._client.patch(POLICY_PATH, MessagingPolicy, body={
            "allow_direct": allow_direct, "mask_contact_details": mask_contact_details})


class AsyncBlocks(AsyncAPIResource):
    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Block]:
        return self._client.get_page(BLOCKS_PATH, Block, params={"limit": limit})

    async def create(self, *, user_id: str) -> Block:
        """Block a user: they can no longer message you."""
        return await self._client.post(BLOCKS_PATH, Block, body={"user_id": user_id})

    async def delete(self, user_id: str) -> None:
        """Unblock a user."""
        await self._client.delete(f"{BLOCKS_PATH}{segment(user_id)}/")


class AsyncMessagingPolicyResource(AsyncAPIResource):
    async def retrieve(self) -> MessagingPolicy:
        return await self._client.get(POLICY_PATH, MessagingPolicy)

    async def update(self, *, allow_direct: bool | NotGiven = NOT_GIVEN,
                     mask_contact_details: bool | NotGiven = NOT_GIVEN) -> MessagingPolicy:
        return await self._client.patch(POLICY_PATH, MessagingPolicy, body={
            "allow_direct": allow_direct, "mask_contact_details": mask_contact_details})
