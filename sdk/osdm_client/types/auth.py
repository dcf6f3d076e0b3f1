"""Users, their seller profiles, and the token pairs of user mode."""

from __future__ import annotations

from datetime import datetime

from .._models import BaseModel

__all__ = ["Registration", "SellerProfile", "TokenPair", "User"]


class TokenPair(BaseModel):
    """A user's credentials: a short-lived access token and the refresh token that renews it."""

    token_type: str = "Bearer"
    access: str
    refresh: str
    access_expires_at: datetime
    refresh_expires_at: datetime


class SellerProfile(BaseModel):
    display_name: str
    bio: str = ""
    country: str
    """ISO 3166-1 alpha-2."""
    avatar_url: str = ""
    created_at: datetime
    updated_at: datetime


class User(BaseModel):
    id: str
    email: str
    full_name: str
    locale: str = "ar"
    """`ar` or `en`."""
    is_seller: bool
    seller_profile: SellerProfile | None = None
    created_at: datetime


class Registration(BaseModel):
    """What signing up returns: the new user, already logged in."""

    user: User
    tokens: TokenPair
