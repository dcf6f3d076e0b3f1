"""User access tokens on a tenant's host (`Authorization: Bearer <JWT>`)."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from osdm.core.prepared import Prepared
from tenants.authentication import SECRET_KEY_PREFIX, bearer_token

from .models import User
from .tokens import TokenError, token_decode

# Every authenticated request runs this; compiled once (osdm.core.prepared).
_active_user = Prepared(lambda p: User.objects.select_related("seller_profile").filter(pk=p.uuid("id"), is_active=True)
                       .order_by()[:1])


class TokenInvalid(exceptions.AuthenticationFailed):
    default_detail = _("The access token is invalid.")
    osdm_code = "invalid_token"


class TokenExpired(exceptions.AuthenticationFailed):
    default_detail = _("The access token has expired. Refresh it and retry.")
    osdm_code = "token_expired"


def user_from_token(token: str, *, expected_type: str, schema_name: str) -> User:
    try:
        claims = token_decode(token, expected_type=expected_type, schema_name=schema_name)
    except TokenError as exc:
        raise (TokenExpired() if exc.code == "token_expired" else TokenInvalid()) from exc
    try:
        user_id = uuid.UUID(claims["sub"])
    except ValueError as exc:
        raise TokenInvalid() from exc
    user = _active_user.first(id=user_id)
    if user is None or user.token_version != claims["ver"]:
        raise TokenInvalid()
    return user


class UserTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or token.startswith(SECRET_KEY_PREFIX):
            return None
        tenant = getattr(request, "tenant", None)
        if tenant is None or not getattr(tenant, "is_marketplace", False):
            raise TokenInvalid()
        user = user_from_token(token, expected_type="access", schema_name=tenant.schema_name)
        return user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
