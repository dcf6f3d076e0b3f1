"""Catalog writes: categories (and the default taxonomy), listings, their packages and files, their
status and moderation, and their search index."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import transaction
from django.db.models import Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from osdm.audit.services import Actor, audit_record
from osdm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from osdm.files.models import StoredFile
from webhooks.services import event_publish

from .models import Category, Listing, Market, ProductFile, ServicePackage
from .text import normalize

TAXONOMY = Path(__file__).parent / "data" / "taxonomy.json"
MAX_PRICE = 10_000_000_00  # 10 million in major units: anything above is a typo, not a price


# --- categories --------------------------------------------------------------------------------


def _category_paths(category: Category) -> None:
    parent = category.parent
    category.depth = parent.depth + 1 if parent else 0
    category.path = f"{parent.path if parent else '/'}{category.pk}/"


def category_create(*, actor: Actor, market: str, slug: str, name_en: str, name_ar: str, parent: Category | None = None,
                    icon: str = "", position: int = 0) -> Category:
    if parent is not None and parent.market != market:
        raise ValidationFailed(fields={"parent": [_("The parent belongs to another market.")]})
    with transaction.atomic():
        if Category.objects.filter(market=market, slug=slug).exists():
            raise Conflict(_("A category with this slug already exists in this market."), code="category_slug_taken")
        category = Category.objects.create(market=market, slug=slug, name_en=name_en, name_ar=name_ar, parent=parent,
                                           icon=icon, position=position, path="/")
        _category_paths(category)
        category.save(update_fields=["path", "depth"])
        audit_record(actor=actor, action="category.created", object_type="category", object_id=category.pk,
                     after={"market": market, "slug": slug, "name_en": name_en, "name_ar": name_ar})
    return category


def category_update(*, actor: Actor, category: Category, **changes: Any) -> Category:
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        before = {k: getattr(category, k) if k != "parent" else category.parent_id for k in changes}
        if "parent" in changes:
            parent = changes.pop("parent")
            if parent is not None and (parent.market != category.market or parent.path.startswith(category.path)):
                raise ValidationFailed(fields={"parent": [_("A category cannot move under itself or another market.")]})
            old_path = category.path
            category.parent = parent
            _category_paths(category)
            # Move the subtree with it: every descendant's path starts with the old path.
            for child in Category.objects.filter(path__startswith=old_path).exclude(pk=category.pk):
                child.path = category.path + child.path[len(old_path):]
                child.depth = child.path.count("/") - 2
                child.save(update_fields=["path", "depth"])
        if "slug" in changes and Category.objects.filter(market=category.market, slug=changes["slug"]).exclude(
                pk=category.pk).exists():
            raise Conflict(_("A category with this slug already exists in this market."), code="category_slug_taken")
        for field, value in changes.items():
            setattr(category, field, value)
        category.save()
        audit_record(actor=actor, action="category.updated", object_type="category", object_id=category.pk,
                     before=before, after={k: getattr(category, k) if k != "parent" else category.parent_id
                                           for k in [*changes, *(["parent"] if "parent" in before else [])]})
    return category


def category_delete(*, actor: Actor, category: Category) -> None:
    with transaction.atomic():
        if Category.objects.filter(parent=category).exists() or Listing.objects.filter(category=category).exists():
            raise Conflict(_("Only an empty category without subcategories can be deleted; deactivate it instead."),
                           code="category_in_use")
        audit_record(actor=actor, action="category.deleted", object_type="category", object_id=category.pk,
                     before={"market": category.market, "slug": category.slug})
        category.delete()


def taxonomy_load(*, actor: Actor | None = None) -> int:
    """Load the default taxonomy (data/taxonomy.json) into the current marketplace. Idempotent:
    categories whose slug already exists in their market are left as the operator edited them.
    Inserted level by level in bulk (a handful of queries for ~500 categories)."""
    actor = actor or Actor.system("taxonomy")
    data = json.loads(TAXONOMY.read_text())
    with transaction.atomic():
        known = {(c.market, c.slug): c for c in Category.objects.all()}
        # (market, node, parent key) for the current level
        level = [(market, node, position, None) for market, nodes in data["markets"].items()
                 for position, node in enumerate(nodes)]
        created = 0
        while level:
            fresh = [Category(market=market, slug=node["slug"], name_en=node["en"], name_ar=node["ar"],
                              icon=node.get("icon", ""), position=position,
                              parent=known[parent] if parent else None, path="/")
                     for market, node, position, parent in level if (market, node["slug"]) not in known]
            Category.objects.bulk_create(fresh)
            for category in fresh:
                _category_paths(category)
                known[(category.market, category.slug)] = category
            Category.objects.bulk_update(fresh, ["path", "depth"])
            created += len(fresh)
            level = [(market, child, position, (market, node["slug"])) for market, node, _, _ in level
                     for position, child in enumerate(node.get("children", []))]
        if created:
            audit_record(actor=actor, action="taxonomy.loaded", object_type="category", object_id="*",
                         after={"created": created})
    return created


# --- listings ----------------------------------------------------------------------------------


def search_facets_invalidate() -> None:
    """Retire the cached facets of text-less searches (`selectors._cached_facets`) of the current
    tenant: now, so this connection never reads stale ones, and again after commit, so an entry
    computed by another request between the two from data without this change is retired too."""
    from django.core.cache import cache
    from django.db import connection

    from .selectors import FACETS_VERSION_KEY

    schema = connection.schema_name

    def bump() -> None:
        if connection.schema_name == schema:  # cache keys carry the current schema
            cache.set(FACETS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        else:
            with schema_context(schema):
                cache.set(FACETS_VERSION_KEY, uuid.uuid4().hex, timeout=None)

    bump()
    transaction.on_commit(bump)


def listing_data(listing: Listing) -> dict:
    return {"id": str(listing.pk), "market": listing.market, "title": listing.title, "status": listing.status,
            "owner_id": str(listing.owner_id), "category_id": listing.category_id, "price": listing.price,
            "currency": listing.currency}


def listing_index(listing_ids: list) -> None:
    """Rebuild the search columns: a tsvector in the listing's own language (title A, tags B,
    description C) over normalised text, and the normalised title and tags for trigram matching."""
    for listing in Listing.objects.filter(pk__in=listing_ids).only("pk", "title", "description", "tags", "language"):
        config = "arabic" if listing.language == Listing.Language.AR else "english"
        title, tags = normalize(listing.title), normalize(" ".join(listing.tags))
        description = normalize(listing.description)
        Listing.objects.filter(pk=listing.pk).update(
            search_text=f"{title} {tags}".strip(),
            search_vector=(SearchVector(Value(title), config=config, weight="A")
                           + SearchVector(Value(tags), config=config, weight="B")
                           + SearchVector(Value(description), config=config, weight="C")),
        )


def _check_category(market: str, category_id: int) -> Category:
    category = Category.objects.filter(pk=category_id, market=market, is_active=True).first()
    if category is None:
        raise ValidationFailed(_("Unknown category for this market."), code="unknown_category",
                               fields={"category_id": [_("Unknown category for this market.")]})
    return category


def _check_price(value: int, field: str) -> int:
    if value is None or value <= 0 or value > MAX_PRICE:
        raise ValidationFailed(fields={field: [_("Enter a positive amount in minor units, at most %(max)s.")
                                              % {"max": MAX_PRICE}]})
    return value


def _apply_market_fields(listing: Listing, market: str, data: dict) -> list[dict] | None:
    """Validate and set what depends on the market. Returns the packages to write, if any."""
    if market == Market.PRODUCTS:
        if "price" in data or listing._state.adding:
            listing.price = _check_price(data.get("price"), "price")
        for field in ("license_text", "version"):
            if field in data:
                setattr(listing, field, data[field])
        return None
    if market == Market.SERVICES:
        if "requirements" in data:
            listing.requirements = data["requirements"]
        packages = data.get("packages")
        if packages is None:
            if listing._state.adding:
                raise ValidationFailed(fields={"packages": [_("A service needs one to three packages.")]})
            return None
        tiers = [p["tier"] for p in packages]
        if not 1 <= len(packages) <= 3 or len(set(tiers)) != len(tiers):
            raise ValidationFailed(fields={"packages": [_("One to three packages, each tier at most once.")]})
        for index, package in enumerate(packages):
            _check_price(package["price"], f"packages[{index}].price")
        listing.price = min(p["price"] for p in packages)
        listing.delivery_days = min(p["delivery_days"] for p in packages)
        return packages
    # projects
    budget_min = data.get("budget_min", listing.budget_min)
    budget_max = data.get("budget_max", listing.budget_max)
    _check_price(budget_max, "budget_max")
    if budget_min is not None:
        _check_price(budget_min, "budget_min")
        if budget_min > budget_max:
            raise ValidationFailed(fields={"budget_min": [_("The minimum budget is above the maximum.")]})
    listing.budget_min, listing.budget_max, listing.price = budget_min, budget_max, budget_max
    for field in ("deadline", "skills"):
        if field in data:
            setattr(listing, field, data[field])
    if listing.deadline and listing.deadline < timezone.localdate():
        raise ValidationFailed(fields={"deadline": [_("The deadline is in the past.")]})
    return None


def _write_packages(listing: Listing, packages: list[dict]) -> None:
    listing.packages.all().delete()
    ServicePackage.objects.bulk_create([ServicePackage(listing=listing, **package) for package in packages])


def listing_create(*, actor: Actor, owner, market: str, currency: str, **data: Any) -> Listing:
    if market in (Market.PRODUCTS, Market.SERVICES) and not owner.is_seller:
        raise PermissionDenied(_("Create a seller profile before selling."), code="seller_profile_required")
    category = _check_category(market, data.pop("category_id"))
    publish = data.pop("publish", False)
    with transaction.atomic():
        listing = Listing(owner=owner, market=market, currency=currency, category=category,
                          title=data["title"], description=data["description"],
                          language=data.get("language") or _guess_language(data["title"], data["description"]),
                          tags=data.get("tags", []), images=data.get("images", []))
        packages = _apply_market_fields(listing, market, data)
        listing.save()
        if packages is not None:
            _write_packages(listing, packages)
        if data.get("file_ids"):
            _attach_files(listing, owner, data["file_ids"])
        listing_index([listing.pk])
        audit_record(actor=actor, action="listing.created", object_type="listing", object_id=listing.pk,
                     after=listing_data(listing))
        if publish:
            listing = listing_set_status(actor=actor, listing=listing, status=Listing.Status.PUBLISHED)
    return listing


def _guess_language(*texts: str) -> str:
    from .text import has_arabic

    return Listing.Language.AR if any(has_arabic(t) for t in texts) else Listing.Language.EN


def _attach_files(listing: Listing, owner, file_ids: list) -> None:
    if listing.market != Market.PRODUCTS:
        raise ValidationFailed(fields={"file_ids": [_("Only products deliver files.")]})
    files = list(StoredFile.objects.filter(pk__in=file_ids, owner=owner, purpose=StoredFile.Purpose.PRODUCT))
    if len(files) != len(set(file_ids)):
        raise ValidationFailed(fields={"file_ids": [_("Upload each file first, as a product file of your own.")]})
    ProductFile.objects.filter(listing=listing).delete()
    ProductFile.objects.bulk_create(
        [ProductFile(listing=listing, file=f, position=file_ids.index(f.pk)) for f in files])


def listing_update(*, actor: Actor, listing: Listing, **data: Any) -> Listing:
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        if listing.status == Listing.Status.CLOSED:
            raise Conflict(_("A closed listing cannot change."), code="listing_closed")
        before = listing_data(listing)
        if "category_id" in data:
            listing.category = _check_category(listing.market, data.pop("category_id"))
        for field in ("title", "description", "language", "tags", "images"):
            if field in data:
                setattr(listing, field, data[field])
        packages = _apply_market_fields(listing, listing.market, data)
        listing.save()
        if packages is not None:
            _write_packages(listing, packages)
        if "file_ids" in data:
            _attach_files(listing, listing.owner, data["file_ids"])
        listing_index([listing.pk])
        audit_record(actor=actor, action="listing.updated", object_type="listing", object_id=listing.pk,
                     before=before, after=listing_data(listing))
    return listing


def listing_set_status(*, actor: Actor, listing: Listing, status: str) -> Listing:
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        if status == listing.status:
            return listing
        if status not in Listing.TRANSITIONS[listing.status]:
            raise Conflict(_("A %(from)s listing cannot become %(to)s.") % {"from": listing.status, "to": status},
                           code="invalid_transition")
        if status == Listing.Status.PUBLISHED and listing.market == Market.PRODUCTS and not listing.files.exists():
            raise Conflict(_("Attach at least one file before publishing a product."), code="product_without_files")
        before = listing.status
        listing.status = status
        if status == Listing.Status.PUBLISHED and listing.published_at is None:
            listing.published_at = timezone.now()
        listing.save(update_fields=["status", "published_at", "updated_at"])
        audit_record(actor=actor, action=f"listing.{status}", object_type="listing", object_id=listing.pk,
                     before={"status": before}, after={"status": status})
        if status == Listing.Status.PUBLISHED:
            event_publish(event_type="listing.published", data=listing_data(listing))
    return listing


def listing_moderate(*, actor: Actor, listing: Listing, hidden: bool, reason: str = "") -> Listing:
    if hidden and not reason.strip():
        raise ValidationFailed(fields={"reason": [_("Say why the listing is hidden; its owner will see it.")]})
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        before = {"hidden": listing.hidden, "hidden_reason": listing.hidden_reason}
        listing.hidden, listing.hidden_reason = hidden, reason if hidden else ""
        listing.hidden_at = timezone.now() if hidden else None
        listing.save(update_fields=["hidden", "hidden_reason", "hidden_at", "updated_at"])
        audit_record(actor=actor, action="listing.hidden" if hidden else "listing.unhidden", object_type="listing",
                     object_id=listing.pk, before=before, after={"hidden": hidden, "hidden_reason": listing.hidden_reason})
        event_publish(event_type="listing.moderated", data={**listing_data(listing), "hidden": hidden,
                                                            "hidden_reason": listing.hidden_reason})
    return listing


def listing_owned(*, listing_id, user) -> Listing:
    listing = Listing.objects.filter(pk=listing_id, owner=user).first()
    if listing is None:
        raise NotFound(code="listing_not_found")
    return listing

