"""Categories, listings, moderation and search."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osdm.catalog.models import Category, Listing
from tenants.services import tenant_run

from .conftest import assert_error
from .markets import category, product, project, service, upload, user

pytestmark = pytest.mark.django_db


def test_the_default_taxonomy_is_bilingual_and_large(api, alpha):
    rows = api(alpha).get("/api/v1/categories/").json()["results"]
    assert len(rows) >= 400
    markets = {r["market"] for r in rows}
    assert markets == {"products", "services", "projects"}
    assert all(r["name_ar"] and r["name_en"] and r["name_ar"] != r["name_en"] for r in rows)
    logo = next(r for r in rows if r["slug"] == "logo-design")
    assert logo["name_ar"] == "تصميم الشعارات" and logo["parent_id"] is not None and logo["depth"] == 1
    services_only = api(alpha).get("/api/v1/categories/?market=services").json()["results"]
    assert services_only and {r["market"] for r in services_only} == {"services"}
    assert_error(api(alpha).get("/api/v1/categories/?market=food"), 400)


def test_operators_manage_the_tree(api, alpha):
    operator = api(alpha, alpha.secret_key)
    root = operator.post("/api/v1/categories/", {"market": "services", "slug": "ai-services", "name_en": "AI",
                                                 "name_ar": "الذكاء الاصطناعي", "icon": "bot"})
    assert root.status_code == 201, root.content
    child = operator.post("/api/v1/categories/", {"market": "services", "slug": "chatbots", "name_en": "Chatbots",
                                                  "name_ar": "روبوتات المحادثة", "parent_id": root.json()["id"]}).json()
    assert child["depth"] == 1 and child["parent_id"] == root.json()["id"]
    assert_error(operator.post("/api/v1/categories/", {"market": "services", "slug": "chatbots", "name_en": "x",
                                                       "name_ar": "س"}), 409, "category_slug_taken")
    assert_error(operator.post("/api/v1/categories/", {"market": "products", "slug": "wrong-parent", "name_en": "x",
                                                       "name_ar": "س", "parent_id": root.json()["id"]}), 400)
    assert_error(operator.post("/api/v1/categories/", {"market": "services", "slug": "no-parent", "name_en": "x",
                                                       "name_ar": "س", "parent_id": 999999}), 404)
    # Moving a subtree keeps descendants under it.
    design = category(alpha, "services", "graphic-design")
    moved = operator.patch(f"/api/v1/categories/{root.json()['id']}/", {"parent_id": design})
    assert moved.json()["depth"] == 1
    with tenant_run(alpha.tenant):
        assert Category.objects.get(pk=child["id"]).depth == 2
    assert_error(operator.patch(f"/api/v1/categories/{design}/", {"parent_id": child["id"]}), 400)  # under itself
    assert_error(operator.delete(f"/api/v1/categories/{root.json()['id']}/"), 409, "category_in_use")
    assert operator.delete(f"/api/v1/categories/{child['id']}/").status_code == 204
    buyer = user(api, alpha)
    assert_error(buyer.post("/api/v1/categories/", {"market": "services", "slug": "x1", "name_en": "x",
                                                    "name_ar": "س"}), 403)
    assert operator.post("/api/v1/categories/load-default").json() == {"created": 0}  # idempotent


def test_selling_needs_a_seller_profile_and_products_need_files(api, alpha):
    buyer = user(api, alpha)
    body = {"market": "products", "category_id": category(alpha, "products", "tech-ebooks"), "title": "Guide",
            "description": "x", "price": 1000}
    assert_error(buyer.post("/api/v1/listings/", body), 403, "seller_profile_required")
    seller = user(api, alpha, seller=True)
    draft = seller.post("/api/v1/listings/", body).json()
    assert draft["status"] == "draft"
    assert_error(seller.post(f"/api/v1/listings/{draft['id']}/publish"), 409, "product_without_files")
    seller.patch(f"/api/v1/listings/{draft['id']}/", {"file_ids": [upload(seller)]})
    assert seller.post(f"/api/v1/listings/{draft['id']}/publish").json()["status"] == "published"
    # Projects are posted by buyers, no seller profile needed.
    assert project(buyer, alpha)["status"] == "published"


@pytest.mark.parametrize(("change", "field"), [
    ({"price": -100}, "price"),
    ({"price": 0}, "price"),
    ({"price": 10**15}, "price"),
    ({"category_id": 999999}, "category_id"),
    ({"title": ""}, "title"),
    ({"tags": ["x"] * 21}, "tags"),
    ({"colour": "red"}, "colour"),
])
def test_bad_product_input(api, alpha, change, field):
    seller = user(api, alpha, seller=True)
    body = {"market": "products", "category_id": category(alpha, "products", "tech-ebooks"), "title": "Guide",
            "description": "x", "price": 1000, **change}
    error = assert_error(seller.post("/api/v1/listings/", body), 400)
    assert field in error.get("fields", {}), error
    with tenant_run(alpha.tenant):
        assert not Listing.objects.filter(owner_id=seller.user_id).exists()


def test_a_category_of_another_market_is_refused(api, alpha):
    seller = user(api, alpha, seller=True)
    body = {"market": "products", "category_id": category(alpha, "services", "logo-design"), "title": "Guide",
            "description": "x", "price": 1000}
    assert_error(seller.post("/api/v1/listings/", body), 400, "unknown_category")


@pytest.mark.parametrize("packages", [
    [],
    [{"tier": "basic", "title": "A", "price": 100, "delivery_days": 1}] * 2,
    [{"tier": t, "title": "A", "price": 100, "delivery_days": 1} for t in ("basic", "standard", "premium", "basic")],
    [{"tier": "gold", "title": "A", "price": 100, "delivery_days": 1}],
    [{"tier": "basic", "title": "A", "price": -5, "delivery_days": 1}],
    [{"tier": "basic", "title": "A", "price": 100, "delivery_days": 0}],
])
def test_bad_service_packages(api, alpha, packages):
    seller = user(api, alpha, seller=True)
    body = {"market": "services", "category_id": category(alpha, "services", "logo-design"), "title": "Logos",
            "description": "x", "packages": packages}
    assert_error(seller.post("/api/v1/listings/", body), 400)


def test_bad_project_budgets(api, alpha):
    buyer = user(api, alpha)
    base = {"market": "projects", "category_id": category(alpha, "projects", "booking-apps"), "title": "App",
            "description": "x"}
    assert_error(buyer.post("/api/v1/listings/", {**base, "budget_min": 5000, "budget_max": 1000}), 400)
    assert_error(buyer.post("/api/v1/listings/", {**base, "budget_max": -1}), 400)
    past = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    assert_error(buyer.post("/api/v1/listings/", {**base, "budget_max": 1000, "deadline": past}), 400)


def test_status_transitions_and_ownership(api, alpha):
    seller = user(api, alpha, seller=True)
    listing = service(seller, alpha)
    path = f"/api/v1/listings/{listing['id']}"
    assert seller.post(f"{path}/pause").json()["status"] == "paused"
    assert seller.post(f"{path}/publish").json()["status"] == "published"
    assert seller.post(f"{path}/close").json()["status"] == "closed"
    assert_error(seller.post(f"{path}/publish"), 409, "invalid_transition")
    assert_error(seller.patch(f"{path}/", {"title": "New"}), 409, "listing_closed")
    other = user(api, alpha, seller=True)
    assert_error(other.post(f"/api/v1/listings/{service(seller, alpha)['id']}/pause"), 404)


def test_drafts_and_hidden_listings_are_invisible_to_others(api, alpha, beta):
    seller = user(api, alpha, seller=True)
    draft = service(seller, alpha, title="Secret draft", publish=False)
    assert seller.get(f"/api/v1/listings/{draft['id']}/").status_code == 200
    assert_error(api(alpha).get(f"/api/v1/listings/{draft['id']}/"), 404, "listing_not_found")
    live = service(seller, alpha, title="Moderated gig")
    operator = api(alpha, alpha.secret_key)
    assert_error(operator.post(f"/api/v1/listings/{live['id']}/moderate", {"hidden": True}), 400)
    hidden = operator.post(f"/api/v1/listings/{live['id']}/moderate", {"hidden": True, "reason": "Copyright"})
    assert hidden.json()["hidden"] is True
    assert_error(api(alpha).get(f"/api/v1/listings/{live['id']}/"), 404)
    assert api(alpha).get("/api/v1/listings/?q=Moderated").json()["results"] == []
    mine = seller.get(f"/api/v1/listings/{live['id']}/").json()
    assert mine["hidden_reason"] == "Copyright"
    assert_error(seller.post(f"/api/v1/listings/{live['id']}/moderate", {"hidden": False}), 403)
    operator.post(f"/api/v1/listings/{live['id']}/moderate", {"hidden": False})
    assert [r["id"] for r in api(alpha).get("/api/v1/listings/?q=Moderated").json()["results"]] == [live["id"]]
    # another tenant never sees it
    assert_error(api(beta).get(f"/api/v1/listings/{live['id']}/"), 404)
    assert api(beta).get("/api/v1/listings/?q=Moderated").json()["results"] == []


@pytest.fixture
def shelf(api, alpha):
    """A small catalogue to search."""
    seller = user(api, alpha, seller=True)
    other = user(api, alpha, seller=True)
    items = {
        "logo_ar": service(seller, alpha, title="تصميم شعار احترافي", description="شعارات مميزة لعلامتك التجارية",
                           tags=["شعار", "هوية"], category="logo-design",
                           packages=[{"tier": "basic", "title": "أساسي", "price": 15000, "delivery_days": 2}]),
        "brand_en": service(other, alpha, title="Brand identity design", description="Complete brand identity",
                            tags=["branding"], category="brand-identity-design",
                            packages=[{"tier": "basic", "title": "Basic", "price": 45000, "delivery_days": 10}]),
        "presets": product(seller, alpha, title="Lightroom presets for travel", price=3000, category="tech-ebooks",
                           tags=["photography"]),
        "book": product(other, alpha, title="كتاب تعلم البرمجة بلغة بايثون", price=9000, category="tech-ebooks",
                        tags=["برمجة"]),
    }
    return seller, other, items


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


def test_search_arabic_and_english_with_stemming_and_typos(api, alpha, shelf):
    _, _, items = shelf
    client = api(alpha)
    assert items["logo_ar"]["id"] in _ids(client.get("/api/v1/listings/?q=الشعارات"))  # article + plural
    assert items["logo_ar"]["id"] in _ids(client.get("/api/v1/listings/?q=شعارات"))
    assert items["logo_ar"]["id"] in _ids(client.get("/api/v1/listings/?q=تصميم الشعار"))
    assert items["book"]["id"] in _ids(client.get("/api/v1/listings/?q=البرمجه"))  # ة typed as ه
    assert items["brand_en"]["id"] in _ids(client.get("/api/v1/listings/?q=identities"))  # English stemming
    assert items["presets"]["id"] in _ids(client.get("/api/v1/listings/?q=preset"))
    assert items["presets"]["id"] in _ids(client.get("/api/v1/listings/?q=lightrom"))  # a typo
    assert items["brand_en"]["id"] in _ids(client.get("/api/v1/listings/?q=identiy"))
    assert _ids(client.get("/api/v1/listings/?q=submarine")) == []


def test_filters_ordering_and_facets_agree(api, alpha, shelf):
    _, other, items = shelf
    client = api(alpha)
    services_ = _ids(client.get("/api/v1/listings/?market=services"))
    assert {items["logo_ar"]["id"], items["brand_en"]["id"]} <= set(services_)
    assert items["presets"]["id"] not in services_
    design = category(alpha, "services", "graphic-design")  # parent of both categories above
    assert {items["logo_ar"]["id"], items["brand_en"]["id"]} <= set(_ids(client.get(f"/api/v1/listings/?category={design}")))
    cheap = _ids(client.get("/api/v1/listings/?market=services&min_price=10000&max_price=20000"))
    assert items["logo_ar"]["id"] in cheap and items["brand_en"]["id"] not in cheap
    assert set(_ids(client.get(f"/api/v1/listings/?seller={other.user_id}"))) == {items["brand_en"]["id"], items["book"]["id"]}
    fast = _ids(client.get("/api/v1/listings/?market=services&delivery_days=5"))
    assert items["logo_ar"]["id"] in fast and items["brand_en"]["id"] not in fast
    assert _ids(client.get("/api/v1/listings/?tags=photography")) == [items["presets"]["id"]]
    prices = [r["price"] for r in client.get("/api/v1/listings/?ordering=price&limit=100").json()["results"]]
    assert prices == sorted(prices)
    prices = [r["price"] for r in client.get("/api/v1/listings/?ordering=-price&limit=100").json()["results"]]
    assert prices == sorted(prices, reverse=True)
    page = client.get("/api/v1/listings/?limit=100").json()
    facets = page["facets"]
    assert facets["total"] == len(page["results"]) == sum(facets["markets"].values())
    assert sum(b["count"] for b in facets["price"]) == facets["total"]
    for facet in facets["categories"]:
        filtered = client.get(f"/api/v1/listings/?category={facet['id']}&limit=100").json()
        assert len(filtered["results"]) == facet["count"] == filtered["facets"]["total"]
    narrowed = client.get("/api/v1/listings/?market=products&min_price=5000").json()["facets"]
    assert narrowed["markets"] == {"products": narrowed["total"]}
    bucket = next(b for b in narrowed["price"] if b["min"] == 5000)
    assert bucket["count"] >= 1  # the 90 SAR book


@pytest.mark.parametrize("query", ["min_price=-1", "min_price=500&max_price=100", "rating=6", "ordering=random",
                                   "market=food", "category=abc", "seller=not-a-uuid", "limit=1000", "cursor=%%%",
                                   "unknown=1"])
def test_bad_search_parameters(api, alpha, query):
    response = api(alpha).get(f"/api/v1/listings/?{query}")
    assert response.status_code in (400, 404)
    assert_error(response, response.status_code)


def test_search_pages_walk_every_result_once(api, alpha, shelf):
    client = api(alpha)
    seen, url = [], "/api/v1/listings/?limit=2"
    while url:
        page = client.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"] and page["next"].split(alpha.host, 1)[-1]
    assert len(seen) == len(set(seen)) == client.get("/api/v1/listings/?limit=100").json()["facets"]["total"]


def test_search_and_inventory_run_a_constant_number_of_queries(api, alpha, shelf):
    seller, _, _ = shelf
    for _ in range(3):
        service(seller, alpha)
    counts = {}
    for path in ("/api/v1/listings/?q=design&market=services&min_price=1", "/api/v1/me/listings/"):
        per_limit = []
        for limit in (1, 10):
            client = api(alpha) if "me" not in path else seller
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(f"{path}{'&' if '?' in path else '?'}limit={limit}").status_code == 200
            per_limit.append(len(ctx.captured_queries))
        counts[path] = per_limit
    for path, (one, ten) in counts.items():
        assert one == ten, (path, one, ten)


def test_listing_detail_shows_packages_and_files_but_not_their_content(api, alpha):
    seller = user(api, alpha, seller=True)
    item = product(seller, alpha)
    detail = api(alpha).get(f"/api/v1/listings/{item['id']}/").json()
    assert detail["files"][0]["name"] == "guide.pdf" and detail["files"][0]["content_type"] == "application/pdf"
    assert_error(api(alpha).get(f"/api/v1/files/{detail['files'][0]['id']}/download"), 401)
    stranger = user(api, alpha)
    assert_error(stranger.get(f"/api/v1/files/{detail['files'][0]['id']}/download"), 404, "file_not_found")
    gig = service(seller, alpha)
    assert [p["tier"] for p in api(alpha).get(f"/api/v1/listings/{gig['id']}/").json()["packages"]] == ["basic", "premium"]


def _facets(client, query: str) -> dict:
    page = client.get(f"/api/v1/listings/?{query}&limit=100").json()
    assert page["facets"]["total"] == len(page["results"]), page["facets"]  # they always agree
    return page["facets"]


def test_cached_facets_of_filtered_searches_follow_every_listing_change(api, alpha, beta, shelf):
    """Facets of searches without text are cached; every change of a listing shows in the next answer."""
    seller, _, _ = shelf
    client, operator = api(alpha), api(alpha, alpha.secret_key)
    query = "market=services&max_price=20000"
    before = _facets(client, query)["total"]
    with CaptureQueriesContext(connection) as ctx:
        assert _facets(client, query)["total"] == before
    assert not any("GROUPING SETS" in q["sql"] for q in ctx.captured_queries)  # served from the cache
    gig = service(seller, alpha, title="Fresh gig",
                  packages=[{"tier": "basic", "title": "Basic", "price": 15000, "delivery_days": 2}])
    assert _facets(client, query)["total"] == before + 1
    path = f"/api/v1/listings/{gig['id']}"
    seller.post(f"{path}/pause")
    assert _facets(client, query)["total"] == before
    seller.post(f"{path}/publish")
    assert _facets(client, query)["total"] == before + 1
    seller.patch(f"{path}/", {"packages": [{"tier": "basic", "title": "Basic", "price": 90000, "delivery_days": 2}]})
    assert _facets(client, query)["total"] == before
    assert _facets(client, "market=services&min_price=80000")["total"] == 1
    operator.post(f"{path}/moderate", {"hidden": True, "reason": "Spam"})
    assert _facets(client, "market=services&min_price=80000")["total"] == 0
    # Another marketplace never gets these cached counts.
    assert _facets(api(beta), query)["total"] == 0


def test_cached_facets_follow_a_category_moving(api, alpha, shelf):
    client, operator = api(alpha), api(alpha, alpha.secret_key)
    design, logos = category(alpha, "services", "graphic-design"), category(alpha, "services", "logo-design")
    before = _facets(client, f"category={design}")
    assert {c["id"] for c in before["categories"]} >= {logos}
    other = category(alpha, "services", "video-animation")
    assert operator.patch(f"/api/v1/categories/{logos}/", {"parent_id": other}).status_code == 200
    after = _facets(client, f"category={design}")
    assert after["total"] == before["total"] - 1 and logos not in {c["id"] for c in after["categories"]}
    assert logos in {c["id"] for c in _facets(client, f"category={other}")["categories"]}


@pytest.mark.parametrize("query", ["q=design", "market=services"])
def test_a_cursor_past_the_last_result_keeps_the_facets(api, alpha, shelf, query):
    client = api(alpha)
    total = _facets(client, query)["total"]
    assert total > 0
    past = client.get(f"/api/v1/listings/?{query}&cursor=bzo1MDA").json()  # offset 500
    assert past["results"] == [] and past["next"] is None and past["facets"]["total"] == total


def test_search_results_render_as_the_summary_serializer_does(api, alpha, shelf):
    """The search page's fast rendering gives exactly what ListingSummarySerializer gives."""
    from osdm.catalog.serializers import ListingSummarySerializer

    page = api(alpha).get("/api/v1/listings/?limit=100").json()["results"]
    with tenant_run(alpha.tenant):
        listings = sorted(Listing.objects.filter(pk__in=[r["id"] for r in page]), key=lambda x: str(x.pk))
        expected = [dict(r) for r in ListingSummarySerializer(listings, many=True).data]
    assert sorted(page, key=lambda r: r["id"]) == expected
