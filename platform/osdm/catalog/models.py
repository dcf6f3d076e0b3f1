"""What a marketplace sells and how it is found: the bilingual category tree of each market, and
listings of the three markets (products, services, projects) in one table with market details.

Money is an integer in the tenant currency's minor unit. A listing's `price` is what filters and
sorts by price: the product's price, a service's cheapest package, a project's budget ceiling.
`search_vector` and `search_text` are derived from title, description and tags (normalised Arabic)
by `catalog.services.listing_index`, never written by hand.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F


class Market(models.TextChoices):
    PRODUCTS = "products", "Products"  # digital goods, bought once, downloaded after payment
    SERVICES = "services", "Services"  # gig offers with packages, ordered and delivered
    PROJECTS = "projects", "Projects"  # work posted by buyers; sellers send proposals


class Category(models.Model):
    id = models.BigAutoField(primary_key=True)
    market = models.CharField(max_length=16, choices=Market.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    slug = models.SlugField(max_length=60)
    name_en = models.CharField(max_length=120)
    name_ar = models.CharField(max_length=120)
    icon = models.CharField(max_length=60, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # "/<root id>/<child id>/.../<own id>/": descendants of X are the rows whose path starts with X's.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["market", "path"]
        constraints = [
            models.UniqueConstraint(fields=["market", "slug"], name="category_market_slug_unique"),
            models.CheckConstraint(condition=models.Q(market__in=["products", "services", "projects"]),
                                   name="category_market_valid"),
        ]
        indexes = [models.Index(fields=["path"], name="category_path_like_idx",
                                opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.market}/{self.slug}"


# What search shows: published and not hidden (the partial indexes of search are over these rows).
LIVE = models.Q(status="published", hidden=False)


class Listing(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"  # being written; only its owner sees it
        PUBLISHED = "published", "Published"  # visible and orderable
        PAUSED = "paused", "Paused"  # hidden from search by its owner; existing orders go on
        CLOSED = "closed", "Closed"  # finished for good (a project that hired, a product withdrawn)

    TRANSITIONS = {
        Status.DRAFT: {Status.PUBLISHED, Status.CLOSED},
        Status.PUBLISHED: {Status.PAUSED, Status.CLOSED},
        Status.PAUSED: {Status.PUBLISHED, Status.CLOSED},
        Status.CLOSED: set(),
    }

    class Language(models.TextChoices):
        AR = "ar", "Arabic"
        EN = "en", "English"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    market = models.CharField(max_length=16, choices=Market.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="listings")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="listings")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=20000)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.AR)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True, size=20)
    images = ArrayField(models.URLField(max_length=500), default=list, blank=True, size=10)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    price = models.BigIntegerField(default=0)
    delivery_days = models.PositiveIntegerField(null=True, blank=True)  # services: fastest package
    # products
    license_text = models.TextField(max_length=20000, blank=True)
    version = models.CharField(max_length=40, blank=True)
    # services: questions the buyer answers when ordering, [{"question", "required"}]
    requirements = models.JSONField(default=list, blank=True)
    # projects
    budget_min = models.BigIntegerField(null=True, blank=True)
    budget_max = models.BigIntegerField(null=True, blank=True)
    deadline = models.DateField(null=True, blank=True)
    skills = ArrayField(models.CharField(max_length=40), default=list, blank=True, size=20)
    # moderation by the operator
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=500, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    # computed, kept exact by the services that change them
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    sales_count = models.PositiveIntegerField(default=0)
    # search
    search_vector = SearchVectorField(null=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)  # normalised title + tags, for trigrams
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["draft", "published", "paused", "closed"]),
                                   name="listing_status_valid"),
            models.CheckConstraint(condition=models.Q(market__in=["products", "services", "projects"]),
                                   name="listing_market_valid"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="listing_price_non_negative"),
            models.CheckConstraint(
                condition=models.Q(budget_min__isnull=True) | models.Q(budget_max__isnull=True)
                | models.Q(budget_min__lte=models.F("budget_max")), name="listing_budget_ordered"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="listing_search_gin"),
            GinIndex(fields=["search_text"], name="listing_trgm_gin", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["tags"], name="listing_tags_gin"),
            models.Index(fields=["market", "status", "-created_at"], name="listing_market_status_idx",
                         condition=models.Q(hidden=False)),
            models.Index(fields=["category", "status"], name="listing_category_idx"),
            models.Index(fields=["owner", "status"], name="listing_owner_idx"),
            models.Index(fields=["price"], name="listing_price_idx"),
            # The overview's published listings and their average rating: an index-only scan.
            models.Index(fields=["market"], include=["rating_sum", "rating_count"],
                         condition=models.Q(status="published", hidden=False), name="listing_published_rating_idx"),
            # Search without text: the newest page straight from an index (with or without a market),
            # and the facets of market / category and price filters from index-only scans.
            models.Index(F("published_at").desc(nulls_first=True), F("id").desc(), name="listing_live_newest_idx",
                         condition=LIVE),
            models.Index(F("market"), F("published_at").desc(nulls_first=True), F("id").desc(),
                         name="listing_live_mkt_newest_idx", condition=LIVE),
            models.Index(fields=["market", "price"], include=["category_id"], name="listing_live_mkt_price_idx",
                         condition=LIVE),
            models.Index(fields=["category", "price"], include=["market"], name="listing_live_cat_price_idx",
                         condition=LIVE),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.PUBLISHED and not self.hidden


class ServicePackage(models.Model):
    class Tier(models.TextChoices):
        BASIC = "basic", "Basic"
        STANDARD = "standard", "Standard"
        PREMIUM = "premium", "Premium"

    id = models.BigAutoField(primary_key=True)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="packages")
    tier = models.CharField(max_length=16, choices=Tier.choices)
    title = models.CharField(max_length=100)
    description = models.TextField(max_length=2000, blank=True)
    price = models.BigIntegerField()
    delivery_days = models.PositiveIntegerField()
    revisions = models.PositiveIntegerField(default=0)
    features = ArrayField(models.CharField(max_length=120), default=list, blank=True, size=20)

    class Meta:
        ordering = ["listing", "price", "id"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "tier"], name="package_listing_tier_unique"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="package_price_positive"),
            models.CheckConstraint(condition=models.Q(delivery_days__gte=1), name="package_delivery_days_min"),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id}/{self.tier}"


class ProductFile(models.Model):
    """A file a product delivers: downloadable by buyers whose order is paid."""

    id = models.BigAutoField(primary_key=True)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="files")
    file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["listing", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["listing", "file"], name="product_file_unique")]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.file_id}"
