"""Account reads, scoped to the current tenant by its schema."""

from django.db.models import QuerySet

from .models import User


def user_list(*, email: str | None = None, is_seller: bool | None = None) -> QuerySet[User]:
    qs = User.objects.select_related("seller_profile")
    if email:
        qs = qs.filter(email__iexact=email.strip())
    if is_seller is not None:
        qs = qs.filter(seller_profile__isnull=not is_seller)
    return qs
