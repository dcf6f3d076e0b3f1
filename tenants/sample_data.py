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


SAMPLE_LISTINGS = (
    {"market": "products", "category": "presentation-templates", "title": "قالب عرض تقديمي احترافي للشركات الناشئة",
     "description": "قالب عرض تقديمي من ٣٠ شريحة قابلة للتعديل، مناسب لعروض المستثمرين، يدعم العربية والإنجليزية.",
     "tags": ["عروض", "ستارتب", "باوربوينت"], "price": 4900, "version": "1.2",
     "file": ("pitch-deck-template.txt", "Pitch deck template (sample file of the OSDM demo).\n")},
    {"market": "products", "category": "lightroom-presets", "title": "Desert Tones Lightroom Presets",
     "description": "Twelve warm presets made for desert and city photography in the Gulf light.",
     "tags": ["lightroom", "presets", "photography"], "price": 2900, "version": "2.0",
     "file": ("desert-tones-presets.txt", "Desert Tones presets (sample file of the OSDM demo).\n")},
    {"market": "services", "category": "logo-design", "title": "تصميم شعار احترافي لمتجرك الإلكتروني",
     "description": "أصمم لك شعارًا فريدًا يعبّر عن هوية علامتك التجارية مع ملفات المصدر.",
     "tags": ["شعار", "هوية بصرية", "تصميم"],
     "packages": [{"tier": "basic", "title": "أساسي", "price": 15000, "delivery_days": 3, "revisions": 1,
                   "features": ["مفهوم واحد", "ملف PNG"]},
                  {"tier": "standard", "title": "قياسي", "price": 30000, "delivery_days": 5, "revisions": 3,
                   "features": ["ثلاثة مفاهيم", "ملفات المصدر"]},
                  {"tier": "premium", "title": "متميز", "price": 60000, "delivery_days": 7, "revisions": 5,
                   "features": ["هوية بصرية كاملة", "دليل استخدام الهوية"]}],
     "requirements": [{"question": "ما اسم علامتك التجارية؟", "required": True},
                      {"question": "ألوان تفضلها؟", "required": False}]},
    {"market": "services", "category": "wordpress-development", "title": "WordPress site setup and speed tuning",
     "description": "I set up your WordPress site, theme and plugins, and make it load in under two seconds.",
     "tags": ["wordpress", "website", "speed"],
     "packages": [{"tier": "basic", "title": "Setup", "price": 40000, "delivery_days": 4, "revisions": 2,
                   "features": ["Theme install", "Five pages"]}],
     "requirements": [{"question": "Your domain name?", "required": True}]},
    {"market": "projects", "category": "booking-apps", "title": "تطبيق جوال لحجز مواعيد صالون",
     "description": "نحتاج تطبيقًا لأجهزة iOS وأندرويد لحجز المواعيد والدفع عبر مدى وأبل باي.",
     "tags": ["تطبيق", "فلاتر", "حجوزات"], "budget_min": 800000, "budget_max": 1500000,
     "skills": ["Flutter", "Firebase"], "owner": "buyer"},
)


def categories(*, tenant: Tenant) -> int:
    from osdm.audit.services import Actor
    from osdm.catalog.services import taxonomy_load

    with schema_context(tenant.schema_name):
        return taxonomy_load(actor=Actor.system("provisioning"))


def load(*, tenant: Tenant) -> list[str]:
    from osdm.accounts.models import SellerProfile, User

    emails, users = [], {}
    with schema_context(tenant.schema_name):
        for sample in SAMPLE_USERS:
            user = User.objects.filter(email=sample.email).first()
            if user is None:
                user = User.objects.create_user(sample.email, DEMO_PASSWORD, full_name=sample.full_name,
                                                locale=sample.locale)
            if sample.seller:
                SellerProfile.objects.get_or_create(user=user, defaults=sample.seller)
            emails.append(sample.email)
            users["seller" if sample.seller else "buyer"] = user
        _listings(tenant, users)
    return emails


def _listings(tenant: Tenant, users: dict) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from osdm.accounts.models import User
    from osdm.audit.services import Actor
    from osdm.catalog import services as catalog
    from osdm.catalog.models import Category, Listing
    from osdm.files.services import file_upload

    catalog.taxonomy_load(actor=Actor.system("demo"))
    for sample in SAMPLE_LISTINGS:
        owner = User.objects.select_related("seller_profile").get(pk=users[sample.get("owner", "seller")].pk)
        if Listing.objects.filter(owner=owner, title=sample["title"]).exists():
            continue
        actor = Actor.for_user(owner)
        data = {k: v for k, v in sample.items() if k not in ("category", "owner", "file", "market")}
        data["category_id"] = Category.objects.get(market=sample["market"], slug=sample["category"]).pk
        if "file" in sample:
            name, content = sample["file"]
            stored = file_upload(actor=actor, owner=owner, purpose="product",
                                 upload=SimpleUploadedFile(name, content.encode(), content_type="text/plain"))
            data["file_ids"] = [stored.pk]
        catalog.listing_create(actor=actor, owner=owner, market=sample["market"], currency=tenant.currency,
                               publish=True, **data)
