"""Sample data for a new marketplace (the demo tenant, or any tenant created with sample_data).

Idempotent: loading twice leaves one copy. Later apps add their listings and orders here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django_tenants.utils import schema_context

from .models import Tenant

DEMO_PASSWORD = "osdm-demo-pass-2026"


@dataclass(frozen=True)
class SampleUser:
    email: str
    full_name: str
    locale: str
    seller: dict | None = None


SAMPLE_USERS = (
    SampleUser("buyer@demo.osdm.dev", "Sara Al-Harbi", "ar"),
    SampleUser("seller@demo.osdm.dev", "Omar Haddad", "en",
               seller={"display_name": "Omar Studio", "country": "SA",
                       "bio": "Designer and developer. مصمم ومطور واجهات."}),
)


def load(*, tenant: Tenant) -> list[str]:
    from osdm.accounts.models import SellerProfile, User

    emails = []
    with schema_context(tenant.schema_name):
        for sample in SAMPLE_USERS:
            user = User.objects.filter(email=sample.email).first()
            if user is None:
                user = User.objects.create_user(sample.email, DEMO_PASSWORD, full_name=sample.full_name,
                                                locale=sample.locale)
            if sample.seller:
                SellerProfile.objects.get_or_create(user=user, defaults=sample.seller)
            emails.append(sample.email)
    return emails
