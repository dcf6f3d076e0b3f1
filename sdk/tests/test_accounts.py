"""Sign-up, log-in, user mode with transparent token refresh, `me` and the seller profile, against the
live server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from osdm_client import AuthenticationError, NotFoundError, PermissionDeniedError, RateLimitError
from osdm_client.types import Registration, TokenPair, User
from sdk_helpers import PASSWORD, unique_email


def _expired_access_token(slug: str, user_id: str) -> str:
    """An access token of this user that expired a minute ago, signed as the platform signs them."""
    from osdm.accounts.tokens import _encode
    from tenants.provisioning import schema_name_for

    token, _ = _encode(user=SimpleNamespace(pk=user_id, token_version=0), schema_name=schema_name_for(slug),
                       typ="access", now=datetime.now(UTC) - timedelta(minutes=16), ttl=timedelta(minutes=15))
    return token


def test_register_log_in_and_manage_your_profile(market):
    shop = market.anonymous()
    email = unique_email("buyer")
    registration = shop.auth.register(email=email, password=PASSWORD, full_name="Sara", locale="en")
    assert isinstance(registration, Registration)
    assert (registration.user.email, registration.user.locale, registration.user.is_seller) == (email, "en", False)
    assert registration.tokens.access_expires_at > datetime.now(UTC)

    buyer = shop.login(email=email, password=PASSWORD)
    assert buyer.access_token
    assert buyer.refresh_token
    me = buyer.me.retrieve()
    assert isinstance(me, User)
    assert me.id == registration.user.id
    renamed = buyer.me.update(full_name="Sara Al-Harbi")
    assert (renamed.full_name, renamed.locale) == ("Sara Al-Harbi", "en")

    with pytest.raises(NotFoundError) as not_yet:
        buyer.me.seller_profile.retrieve()
    assert not_yet.value.code == "seller_profile_not_found"
    profile = buyer.me.seller_profile.upsert(display_name="Sara Studio", country="SA")
    assert (profile.display_name, profile.country, profile.bio) == ("Sara Studio", "SA", "")
    profile = buyer.me.seller_profile.update(bio="Hand-made ceramics")
    assert (profile.display_name, profile.bio) == ("Sara Studio", "Hand-made ceramics")
    assert buyer.me.seller_profile.retrieve().bio == "Hand-made ceramics"
    me = buyer.me.retrieve()
    assert me.is_seller
    assert me.seller_profile is not None
    assert me.seller_profile.display_name == "Sara Studio"


def test_refresh_exchanges_a_refresh_token_for_a_new_pair(market):
    email, _ = market.register()
    pair = market.anonymous().auth.token(email=email, password=PASSWORD)
    renewed = market.anonymous().auth.refresh(refresh=pair.refresh)
    assert isinstance(renewed, TokenPair)
    assert renewed.access != pair.access
    assert market.anonymous().as_user(renewed).me.retrieve().email == email


def test_a_401_token_expired_refreshes_the_token_and_retries_the_call(market):
    email, _ = market.register()
    pair = market.anonymous().auth.token(email=email, password=PASSWORD)
    user_id = market.operator.users.list(email=email).results[0].id
    expired = _expired_access_token(market.slug, user_id)
    # The client is told the token is good for an hour, so only the API's 401 can reveal it is not.
    lying = pair.model_copy(update={"access": expired, "access_expires_at": datetime.now(UTC) + timedelta(hours=1)})
    heard: list[TokenPair] = []

    client = market.anonymous().as_user(lying, on_token_refresh=heard.append)
    assert client.me.retrieve().email == email
    assert len(heard) == 1
    assert client.access_token == heard[0].access != expired
    # A copy shares the refreshed session: no second refresh.
    assert client.with_options(timeout=10).me.retrieve().email == email
    assert len(heard) == 1


def test_tokens_given_to_the_constructor_refresh_by_their_own_expiry(market):
    email, _ = market.register()
    pair = market.anonymous().auth.token(email=email, password=PASSWORD)
    user_id = market.operator.users.list(email=email).results[0].id
    heard: list[TokenPair] = []
    client = market.anonymous(access_token=_expired_access_token(market.slug, user_id), refresh_token=pair.refresh,
                              on_token_refresh=heard.append)
    assert client.me.retrieve().email == email
    assert len(heard) == 1


def test_a_token_about_to_expire_is_refreshed_before_the_call(market):
    email, _ = market.register()
    pair = market.anonymous().auth.token(email=email, password=PASSWORD)
    stale = pair.model_copy(update={"access_expires_at": datetime.now(UTC) + timedelta(seconds=5)})
    heard: list[TokenPair] = []
    client = market.anonymous().as_user(stale, on_token_refresh=heard.append)
    assert client.me.retrieve().email == email
    assert len(heard) == 1
    assert heard[0].access != pair.access


def test_a_revoked_token_is_not_refreshed_forever(market):
    email, buyer = market.register()
    buyer.me.update(password="another-long-passphrase-42", current_password=PASSWORD)
    # Changing the password revokes every token: invalid (not expired), so no refresh, one clear error.
    with pytest.raises(AuthenticationError) as refused:
        buyer.me.retrieve()
    assert refused.value.code == "invalid_token"
    with pytest.raises(AuthenticationError) as wrong:
        market.anonymous().login(email=email, password=PASSWORD)
    assert wrong.value.code == "invalid_credentials"
    assert market.anonymous().login(email=email, password="another-long-passphrase-42").me.retrieve().email == email


def test_who_may_call_what(market):
    _, buyer = market.register()
    with pytest.raises(PermissionDeniedError) as user_on_operator:
        buyer.users.list()
    assert user_on_operator.value.code == "permission_denied"
    with pytest.raises(PermissionDeniedError):
        market.operator.me.retrieve()
    with pytest.raises(AuthenticationError) as anonymous:
        market.anonymous().users.list()
    assert anonymous.value.code == "authentication_required"


def test_messages_follow_the_language_and_codes_do_not(market):
    attempts = {}
    for language in ("en", "ar"):
        with pytest.raises(AuthenticationError) as refused:
            market.anonymous(language=language).auth.token(email=unique_email(), password="wrong-password")
        attempts[language] = refused.value
    assert attempts["en"].code == attempts["ar"].code == "invalid_credentials"
    assert attempts["en"].message != attempts["ar"].message


def test_rate_limits_raise_rate_limit_error_with_retry_after(market):
    email = unique_email()
    client = market.anonymous(max_retries=0)
    with pytest.raises(RateLimitError) as limited:  # noqa: PT012 - the 11th login of a minute is refused
        for _ in range(11):
            with pytest.raises(AuthenticationError):
                client.auth.token(email=email, password="wrong-password")
    assert limited.value.code == "rate_limited"
    assert limited.value.status_code == 429
    assert limited.value.retry_after is not None
    assert limited.value.retry_after > 0
