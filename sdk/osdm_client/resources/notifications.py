"""`client.notifications` (your in-app notifications) and `client.notification_preferences` (which kinds
reach you in the app and by e-mail)."""

from __future__ import annotations

import builtins

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Notification, NotificationPreference, NotificationsMarked

__all__ = ["AsyncNotificationPreferences", "AsyncNotifications", "NotificationPreferences", "Notifications"]

PATH = "/api/v1/notifications/"
PREFERENCES_PATH = "/api/v1/notification-preferences/"


class Notifications(SyncAPIResource):
    def list(self, *, unread: bool | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN
             ) -> SyncPage[Notification]:
        return self._client.get_page(PATH, Notification, params={"unread": unread, "limit": limit})

    def mark_read(self, *, ids: builtins.list[str] | NotGiven = NOT_GIVEN) -> NotificationsMarked:
        """Mark these notifications read (every one, without `ids`)."""
        return self._client.post(f"{PATH}read", NotificationsMarked, body={"ids": ids})


class NotificationPreferences(SyncAPIResource):
    def list(self) -> builtins.list[NotificationPreference]:
        """Your preference for every kind of notification (not paginated)."""
        return self._client.get_list(PREFERENCES_PATH, NotificationPreference)

    def set(self, kind: str, *, in_app: bool, email: bool) -> NotificationPreference:
        return self._client.put(f"{PREFERENCES_PATH}{segment(kind)}", NotificationPreference,
                                body={"in_app": in_app, "email": email})


class AsyncNotifications(AsyncAPIResource):
    def list(self, *, unread: bool | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN
             ) -> AsyncPaginator[Notification]:
        return self._client.get_page(PATH, Notification, params={"unread": unread, "limit": limit})

    async def mark_read(self, *, ids: builtins.list[str] | NotGiven = NOT_GIVEN) -> NotificationsMarked:
        """Mark these notifications read (every one, without `ids`)."""
        return await self._client.post(f"{PATH}read", NotificationsMarked, body={"ids": ids})


class AsyncNotificationPreferences(AsyncAPIResource):
    async def list(self) -> builtins.list[NotificationPreference]:
        """Your preference for every kind of notification (not paginated)."""
        return await self._client.get_list(PREFERENCES_PATH, NotificationPreference)

    async def set(self, kind: str, *, in_app: bool, email: bool) -> NotificationPreference:
        return await self._client.put(f"{PREFERENCES_PATH}{segment(kind)}", NotificationPreference,
                                      body={"in_app": in_app, "email": email})
