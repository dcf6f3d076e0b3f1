"""Account writes: registration, login, token refresh, profile and seller profile changes."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from osdm.audit.services import Actor, audit_record
from osdm.core.errors import AuthenticationFailed, Conflict, ValidationFailed
from webhooks.services import event_publish

from .authentication import user_from_token
from .models import SellerProfile, User
from .tokens import TokenPair, token_pair_issue


def user_data(user: User) -> dict:
    """The user as events and audit records show it (never the password hash)."""
    return {"id": str(user.pk), "email": user.email, "full_name": user.full_name, "locale": user.locale,
            "is_seller": user.is_seller, "created_at": user.created_at.isoformat().replace("+00:00", "Z")}


def seller_profile_data(profile: SellerProfile) -> dict:
    return {"user_id": str(profile.user_id), "display_name": profile.display_name, "country": profile.country,
            "bio": profile.bio, "avatar_url": profile.avatar_url}


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("The password is too weak."), code="weak_password",
                               fields={"password": list(exc.messages)}) from exc


def user_register(*, email: str, password: str, full_name: str, locale: str) -> User:
    email = User.objects.normalize_email(email).lower()
    user = User(email=email, full_name=full_name, locale=locale)
    _validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
            audit_record(actor=Actor.for_user(user), action="user.registered", object_type="user",
                         object_id=user.pk, after=user_data(user))
            event_publish(event_type="user.created", data=user_data(user))
    except IntegrityError as exc:
        raise Conflict(_("An account with this e-mail already exists."), code="email_taken",
                       fields={"email": [_("An account with this e-mail already exists.")]}) from exc
    return user


def user_authenticate(*, email: str, password: str) -> User:
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if user is None:
        # Hash anyway, so the response time does not tell whether the address has an account.
        User().set_password(password)
        raise AuthenticationFailed(_("The e-mail or password is wrong."), code="invalid_credentials")
    if not user.check_password(password):
        raise AuthenticationFailed(_("The e-mail or password is wrong."), code="invalid_credentials")
    return user


def token_refresh(*, refresh: str, schema_name: str) -> TokenPair:
    user = user_from_token(refresh, expected_type="refresh", schema_name=schema_name)
    return token_pair_issue(user=user, schema_name=schema_name)


def user_update(*, actor: Actor, user: User, full_name: str | None = None, locale: str | None = None,
                password: str | None = None, current_password: str | None = None) -> User:
    changed: list[str] = []
    before = user_data(user)
    if full_name is not None:
        user.full_name = full_name
        changed.append("full_name")
    if locale is not None:
        user.locale = locale
        changed.append("locale")
    if password is not None:
        if not current_password or not user.check_password(current_password):
            raise ValidationFailed(_("The current password is wrong."), code="invalid_current_password",
                                   fields={"current_password": [_("The current password is wrong.")]})
        _validate_password(password, user)
        user.set_password(password)
        # Every token issued before the change stops working.
        user.token_version += 1
        changed += ["password", "token_version"]
    if changed:
        with transaction.atomic():
            user.save(update_fields=[*changed, "updated_at"])
            after = {**user_data(user), "password_changed": "password" in changed}
            audit_record(actor=actor, action="user.updated", object_type="user", object_id=user.pk,
                         before=before, after=after)
            event_publish(event_type="user.updated", data=user_data(user))
    return user


def seller_profile_upsert(*, actor: Actor, user: User, **fields) -> SellerProfile:
    with transaction.atomic():
        profile = SellerProfile.objects.select_for_update().filter(user=user).first()
        before = seller_profile_data(profile) if profile else None
        if profile is None:
            missing = [f for f in ("display_name", "country") if not fields.get(f)]
            if missing:
                raise ValidationFailed(fields={f: [_("This field is required.")] for f in missing})
            profile = SellerProfile(user=user)
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.save()
        audit_record(actor=actor, action="seller_profile.created" if before is None else "seller_profile.updated",
                     object_type="seller_profile", object_id=user.pk, before=before,
                     after=seller_profile_data(profile))
        event_publish(event_type="seller_profile.updated", data=seller_profile_data(profile))
    user.seller_profile = profile
    return profile
