"""Who may call what. Principals are set by the authentication classes:

- an operator (a tenant secret key) has `request.user.is_operator`;
- a buyer or seller (a user access token) is an `accounts.User`.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions


class IsAuthenticated(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user is not None and getattr(request.user, "is_authenticated", False))


class IsOperator(permissions.BasePermission):
    message = _("This call needs a tenant secret key.")

    def has_permission(self, request, view) -> bool:
        return bool(getattr(request.user, "is_operator", False))


class IsEndUser(permissions.BasePermission):
    message = _("This call needs a user access token.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user is not None and getattr(user, "is_authenticated", False)
                    and not getattr(user, "is_operator", False))
