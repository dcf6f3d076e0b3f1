"""The catalog resources against the live server: categories, listings (search with every filter and
its facets, the listing lifecycle, moderation), proposals on projects, files (streamed upload and
download, signed links, thumbnails), and `me.listings`."""

from __future__ import annotations

import io
import struct
import uuid
import zlib

import httpx
import pytest

from osdm_client import AsyncPaginator, BadRequestError, NotFoundError, PermissionDeniedError, SyncPage
from osdm_client.types import (
    AsyncListingSearchPage,
    AsyncListingSearchPaginator,
    Category,
    Facets,
    FileLink,
    Listing,
    ListingSearchPage,
    ListingSummary,
    Proposal,
    StoredFile,
)
from sdk_helpers import become_seller, category_id


def _png(width: int = 400, height: int = 300) -> bytes:
    """A real PNG (solid colour), so the server makes a thumbnail of it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xc0\x40\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def shop(market):
    """The taxonomy, a seller and a buyer."""
    market.operator.categories.load_default()
    _, seller = market.register()
    _, buyer = market.register()
    return become_seller(seller), buyer


def test_categories(market, shop):
    operator, (seller, _) = market.operator, shop
    products = seller.categories.list(market="products")
    assert products and all(isinstance(c, Category) and c.market == "products" for c in products)
    assert market.operator.categories.load_default().created == 0  # idempotent
    parent = products[0]
    slug = f"sdk-{uuid.uuid4().hex[:8]}"
    made = operator.categories.create(market="products", slug=slug, name_en="SDK", name_ar="حزمة", parent_id=parent.id,
                                      position=9)
    assert (made.slug, made.parent_id, made.depth) == (slug, parent.id, parent.depth + 1)
    hidden = operator.categories.update(made.id, name_en="SDK tools", is_active=False)
    assert (hidden.name_en, hidden.is_active) == ("SDK tools", False)
    assert made.id not in {c.id for c in seller.categories.list(market="products")}
    assert made.id in {c.id for c in operator.categories.list(market="products", include_inactive=True)}
    with pytest.raises(PermissionDeniedError):
        seller.categories.create(market="products", slug="nope", name_en="x", name_ar="x")
    operator.categories.delete(made.id)
    with pytest.raises(NotFoundError):
        operator.categories.update(made.id, name_en="gone")


def test_files_upload_download_link_and_thumbnail(market, shop, tmp_path):
    seller, buyer = shop
    source = tmp_path / "guide.pdf"
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 800  # 200 KB, several chunks
    source.write_bytes(payload)
    stored = seller.files.upload(source, purpose="product")
    assert isinstance(stored, StoredFile)
    assert (stored.name, stored.size, stored.purpose) == ("guide.pdf", len(payload), "product")
    assert seller.files.retrieve(stored.id) == stored

    out = tmp_path / "copy.pdf"
    assert seller.files.download(stored.id, out) == len(payload)
    assert out.read_bytes() == payload
    sink = io.BytesIO()
    assert seller.files.download(stored.id, sink) == len(payload) and sink.getvalue() == payload

    # A signed link works with no credentials at all; a product file is not the buyer's to read.
    link = seller.files.link(stored.id)
    assert isinstance(link, FileLink) and link.thumbnail_url is None
    query = httpx.URL(link.url).params
    anonymous, signed = market.anonymous(), io.BytesIO()
    anonymous.files.download(stored.id, signed, expires=int(query["expires"]), signature=query["signature"])
    assert signed.getvalue() == payload
    with pytest.raises(NotFoundError):
        anonymous.files.download(stored.id, io.BytesIO(), expires=int(query["expires"]), signature="forged")
    untouched = tmp_path / "never.pdf"
    with pytest.raises((NotFoundError, PermissionDeniedError)):
        buyer.files.download(stored.id, untouched)
    assert not untouched.exists()

    # A file object with a name of our choosing; an image gets a thumbnail.
    image = seller.files.upload(io.BytesIO(_png()), purpose="image", filename="cover.png")
    assert (image.content_type, image.width, image.height) == ("image/png", 400, 300)
    thumb = io.BytesIO()
    assert seller.files.thumbnail(image.id, thumb) > 0
    assert thumb.getvalue()[:3] == b"\xff\xd8\xff"  # a JPEG
    assert seller.files.link(image.id).thumbnail_url
    with pytest.raises(BadRequestError):
        seller.files.upload(io.BytesIO(b"x"), purpose="nonsense", filename="x.bin")


def _product(seller, market, *, tag: str, title: str, price: int, publish: bool = True) -> Listing:
    file_id = seller.files.upload(io.BytesIO(b"%PDF-1.4\n% sdk\n"), purpose="product", filename="book.pdf").id
    return seller.listings.create(market="products", category_id=category_id(seller, "products", "tech-ebooks"),
                                  title=title, description="A digital product made by the SDK tests.",
                                  price=price, file_ids=[file_id], tags=[tag, "sdk"], publish=publish)


def test_listings_search_filters_facets_and_pages(market, shop):
    seller, buyer = shop
    tag = f"t{uuid.uuid4().hex[:10]}"
    made = [_product(seller, market, tag=tag, title=f"Python handbook {i}", price=1000 * (i + 1)) for i in range(3)]
    assert all(isinstance(m, Listing) and m.status == "published" and m.files for m in made)
    draft = _product(seller, market, tag=tag, title="Unpublished handbook", price=500, publish=False)

    page = buyer.listings.search(tags=[tag], limit=2, ordering="price")
    assert isinstance(page, ListingSearchPage) and isinstance(page, SyncPage)
    assert isinstance(page.facets, Facets) and page.facets.total == 3
    assert page.facets.markets == {"products": 3}
    assert sum(b.count for b in page.facets.price) == 3
    assert [c.count for c in page.facets.categories] == [3]
    assert [x.price for x in page.results] == [1000, 2000] and page.has_next_page()
    assert isinstance(page.next_page(), ListingSearchPage) and page.next_page().facets.total == 3
    assert [x.id for x in page] == [m.id for m in made]  # every page, in price order, the draft not among them
    assert all(isinstance(x, ListingSummary) for x in page)
    assert [x.id for x in buyer.listings.search(tags=tag, ordering="-price")] == [m.id for m in reversed(made)]

    every_filter = buyer.listings.search(
        q="handbook", market="products", category=category_id(buyer, "products", "tech-ebooks"),
        seller=made[0].owner.id, tags=[tag, "sdk"], min_price=1500, max_price=3000, ordering="newest", limit=10)
    assert {x.id for x in every_filter} == {made[1].id, made[2].id}
    assert every_filter.facets.total == 2
    assert list(buyer.listings.search(tags=[tag], delivery_days=1, rating=4.5)) == []
    with pytest.raises(BadRequestError):
        buyer.listings.search(ordering="random")

    mine = seller.me.listings.list(status="draft", market="products")
    assert draft.id in {x.id for x in mine}
    assert {m.id for m in made} <= {x.id for x in seller.me.listings.list(limit=2)}


def test_listing_lifecycle_and_moderation(market, shop):
    seller, buyer = shop
    tag = f"t{uuid.uuid4().hex[:10]}"
    listing = _product(seller, market, tag=tag, title="Lifecycle handbook", price=4200, publish=False)
    assert listing.status == "draft" and buyer.listings.search(tags=tag).facets.total == 0
    edited = seller.listings.update(listing.id, title="Lifecycle handbook 2", price=4300)
    assert (edited.title, edited.price, edited.currency) == ("Lifecycle handbook 2", 4300, "SAR")
    assert seller.listings.publish(listing.id).status == "published"
    assert buyer.listings.retrieve(listing.id).title == "Lifecycle handbook 2"
    assert seller.listings.pause(listing.id).status == "paused"
    assert seller.listings.publish(listing.id).status == "published"
    with pytest.raises(NotFoundError):
        buyer.listings.update(listing.id, title="mine now")
    hidden = market.operator.listings.moderate(listing.id, hidden=True, reason="Checking the licence")
    assert (hidden.hidden, hidden.hidden_reason) == (True, "Checking the licence")
    assert buyer.listings.search(tags=tag).facets.total == 0
    assert market.operator.listings.moderate(listing.id, hidden=False).hidden is False
    assert seller.listings.close(listing.id).status == "closed"


def test_projects_and_proposals(market, shop):
    seller, _ = shop
    _, client = market.register()
    project = client.listings.create(market="projects", category_id=category_id(client, "projects", "booking-apps"),
                                     title="A booking app", description="We need a booking app for our clinic.",
                                     budget_min=100000, budget_max=500000, skills=["django"], publish=True)
    assert (project.market, project.budget_max) == ("projects", 500000)
    proposal = seller.listings.proposals.create(
        project.id, cover_letter="I build booking apps.", amount=300000, duration_days=30,
        milestones=[{"title": "Design", "amount": 100000, "due_days": 10},
                    {"title": "Build", "amount": 200000, "due_days": 30}])
    assert isinstance(proposal, Proposal)
    assert (proposal.status, proposal.amount, proposal.currency) == ("pending", 300000, "SAR")
    listed = client.listings.proposals.list(project.id)
    assert isinstance(listed, SyncPage) and [p.id for p in listed] == [proposal.id]


@pytest.mark.anyio
async def test_the_async_catalog(market, shop):
    seller, _ = shop
    tag = f"t{uuid.uuid4().hex[:10]}"
    _product(seller, market, tag=tag, title="Async handbook", price=777)
    async with market.async_operator() as operator:
        assert [c.id for c in await operator.categories.list(market="services")] == \
               [c.id for c in seller.categories.list(market="services")]
        paginator = operator.listings.search(tags=tag)
        assert isinstance(paginator, AsyncListingSearchPaginator) and isinstance(paginator, AsyncPaginator)
        page = await paginator
        assert isinstance(page, AsyncListingSearchPage) and page.facets.total == 1
        assert [x.price async for x in operator.listings.search(tags=tag)] == [777]
        image = await operator.with_options(api_key=None).as_user(_tokens(seller)).files.upload(
            io.BytesIO(_png(40, 30)), purpose="image", filename="a.png")
        assert image.width == 40


def _tokens(client):
    from osdm_client.types import TokenPair
    return TokenPair(access=client.access_token, refresh=client.refresh_token,
                     access_expires_at="2999-01-01T00:00:00Z", refresh_expires_at="2999-01-01T00:00:00Z")
