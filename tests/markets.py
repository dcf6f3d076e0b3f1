"""Helpers for market tests: sellers, listings, orders, through the API like a storefront would."""

from __future__ import annotations

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from osdm.catalog.models import Category
from tenants.services import tenant_run

from .conftest import register


def user(api, market, *, seller: bool = False, email: str | None = None):
    """A registered user's API client (with a seller profile if asked)."""
    email = email or f"u-{uuid.uuid4().hex[:10]}@example.com"
    body = register(api(market), email)
    client = api(market, body["tokens"]["access"])
    client.user_id = body["user"]["id"]
    if seller:
        response = client.put("/api/v1/me/seller-profile", {"display_name": f"Shop {email[:6]}", "country": "SA"})
        assert response.status_code == 200, response.content
    return client


def category(market, market_name: str, slug: str) -> int:
    with tenant_run(market.tenant):
        return Category.objects.get(market=market_name, slug=slug).pk


def upload(client, name: str = "guide.pdf", content: bytes = b"%PDF-1.4\n% sample\n", purpose: str = "product") -> str:
    response = client.client.post("/api/v1/files/", {"file": SimpleUploadedFile(name, content), "purpose": purpose},
                                  HTTP_HOST=client.host, HTTP_AUTHORIZATION=f"Bearer {client.token}")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def product(client, market, *, title="Arabic e-book", price=5000, publish=True, **extra) -> dict:
    body = {"market": "products", "category_id": category(market, "products", extra.pop("category", "tech-ebooks")),
            "title": title, "description": extra.pop("description", "A useful digital product."), "price": price,
            "file_ids": [upload(client)], "publish": publish, **extra}
    response = client.post("/api/v1/listings/", body)
    assert response.status_code == 201, response.content
    return response.json()


def service(client, market, *, title="Logo design", packages=None, publish=True, **extra) -> dict:
    body = {"market": "services", "category_id": category(market, "services", extra.pop("category", "logo-design")),
            "title": title, "description": extra.pop("description", "I design logos."),
            "packages": packages or [
                {"tier": "basic", "title": "Basic", "price": 10000, "delivery_days": 3, "revisions": 1},
                {"tier": "premium", "title": "Premium", "price": 30000, "delivery_days": 7, "revisions": 3}],
            "requirements": extra.pop("requirements", [{"question": "Brand name?", "required": True}]),
            "publish": publish, **extra}
    response = client.post("/api/v1/listings/", body)
    assert response.status_code == 201, response.content
    return response.json()


def service_order(buyer, seller, market, *, price: int = 15000) -> dict:
    """The buyer orders the basic package (one price) of a new service of the seller's: the order."""
    gig = service(seller, market, packages=[{"tier": "basic", "title": "B", "price": price, "delivery_days": 3}])
    response = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                              "requirements": [{"question": "Brand name?", "answer": "x"}]})
    assert response.status_code == 201, response.content
    return response.json()


def project(client, market, *, title="Booking app", budget_max=500000, publish=True, **extra) -> dict:
    body = {"market": "projects", "category_id": category(market, "projects", extra.pop("category", "booking-apps")),
            "title": title, "description": extra.pop("description", "We need a booking app."),
            "budget_min": extra.pop("budget_min", 100000), "budget_max": budget_max, "publish": publish, **extra}
    response = client.post("/api/v1/listings/", body)
    assert response.status_code == 201, response.content
    return response.json()


def contract(poster, seller, market, *, milestones: list[int]) -> tuple[dict, dict]:
    """A project of `poster`, `seller`'s proposal with milestones of these amounts, accepted:
    (project, contract order)."""
    job = project(poster, market)
    proposal = seller.post(f"/api/v1/listings/{job['id']}/proposals/", {
        "cover_letter": "x", "amount": sum(milestones), "duration_days": 10,
        "milestones": [{"title": f"part {i}", "amount": amount} for i, amount in enumerate(milestones, 1)]}).json()
    return job, poster.post(f"/api/v1/proposals/{proposal['id']}/accept").json()

