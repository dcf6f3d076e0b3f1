"""Messaging: who may talk about what (listings, orders, disputes, direct by policy), unread counts
and read receipts, cursor pagination, attachments, contact-detail masking, the block list,
privacy (strangers and other marketplaces see nothing), the `message.created` event, bad input,
and constant query counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from osdm.audit.models import AuditRecord
from osdm.disputes.models import Dispute
from osdm.escrow.models import Escrow
from osdm.messaging.masking import PLACEHOLDER, mask_contact_details
from osdm.messaging.models import Conversation, Message
from tenants.services import tenant_run
from webhooks.models import Event

from .conftest import assert_error
from .markets import product, service, upload, user

pytestmark = pytest.mark.django_db

PATH = "/api/v1/conversations/"


def _path(market, url: str) -> str:
    return url.split(market.host, 1)[-1]


def _order(api, market, seller=None, buyer=None) -> tuple:
    seller = seller or user(api, market, seller=True)
    buyer = buyer or user(api, market)
    gig = service(seller, market)
    order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                           "requirements": [{"question": "Brand name?", "answer": "x"}]})
    assert order.status_code == 201, order.content
    return seller, buyer, gig, order.json()


def _dispute(market, order: dict) -> str:
    """A dispute on the order's escrow, written directly: how it is opened is test_disputes' business."""
    with tenant_run(market.tenant):
        escrow = Escrow.objects.get(order_id=order["id"])
        return str(Dispute.objects.create(
            escrow=escrow, order_id=escrow.order_id, buyer_id=escrow.buyer_id, seller_id=escrow.seller_id,
            reason="other", description="x", respond_by=timezone.now() + timedelta(days=3)).pk)


def _start(client, subject_type: str, subject_id=None, body: str = "Hello", **extra):
    payload = {"subject_type": subject_type, "body": body, **extra}
    if subject_id is not None:
        payload["subject_id"] = subject_id
    return client.post(PATH, payload)


def _written(market) -> tuple[int, int, int]:
    with tenant_run(market.tenant):
        return (Conversation.objects.count(), Message.objects.count(),
                Event.objects.filter(type="message.created").count())


def _policy(api, market, **changes) -> dict:
    response = api(market, market.secret_key).patch("/api/v1/messaging-policy", changes)
    assert response.status_code == 200, response.content
    return response.json()


# --- who may talk about what ---------------------------------------------------------------------


def test_a_listing_conversation_is_with_its_owner(api, alpha):
    seller, buyer, stranger = user(api, alpha, seller=True), user(api, alpha), user(api, alpha)
    listing = product(seller, alpha)
    started = _start(buyer, "listing", listing["id"], "Is the e-book in Arabic?")
    assert started.status_code == 201, started.content
    conversation = started.json()
    assert conversation["subject_type"] == "listing" and conversation["subject_id"] == listing["id"]
    assert conversation["other"]["id"] == seller.user_id
    assert conversation["other"]["display_name"].startswith("Shop ")
    assert {p["id"] for p in conversation["participants"]} == {buyer.user_id, seller.user_id}
    assert conversation["last_message"]["preview"] == "Is the e-book in Arabic?"
    assert conversation["unread_count"] == 0  # your own message

    again = _start(buyer, "listing", listing["id"], "And in English?", with_user_id=seller.user_id)
    assert again.status_code == 200 and again.json()["id"] == conversation["id"]  # one per pair and subject

    # the owner writes first only to someone who ordered or proposed; never to themselves
    assert_error(_start(seller, "listing", listing["id"], with_user_id=stranger.user_id), 403, "not_a_party")
    assert_error(_start(seller, "listing", listing["id"], with_user_id=seller.user_id), 400,
                 "cannot_message_yourself")
    assert_error(_start(seller, "listing", listing["id"]), 400, "validation_error")
    # a non-owner talks with the owner, not with a third user
    assert_error(_start(stranger, "listing", listing["id"], with_user_id=buyer.user_id), 403, "not_a_party")
    # a listing you may not see is not found
    draft = product(seller, alpha, publish=False)
    assert_error(_start(buyer, "listing", draft["id"]), 404, "listing_not_found")


def test_the_listing_owner_writes_to_a_buyer(api, alpha):
    seller, buyer, gig, _order_body = _order(api, alpha)
    started = _start(seller, "listing", gig["id"], "Thanks for ordering!", with_user_id=buyer.user_id)
    assert started.status_code == 201, started.content
    assert started.json()["other"]["id"] == buyer.user_id


def test_an_order_conversation_is_between_its_buyer_and_seller(api, alpha):
    seller, buyer, _gig, order = _order(api, alpha)
    stranger = user(api, alpha, seller=True)
    assert_error(_start(stranger, "order", order["id"]), 404, "order_not_found")
    assert_error(_start(buyer, "order", order["id"], with_user_id=stranger.user_id), 403, "not_a_party")
    started = _start(buyer, "order", order["id"], "When will it be ready?")
    assert started.status_code == 201, started.content
    assert started.json()["other"]["id"] == seller.user_id
    reply = _start(seller, "order", order["id"], "Tomorrow.")
    assert reply.status_code == 200 and reply.json()["id"] == started.json()["id"]
    listed = seller.get(f"{PATH}?subject_type=order&subject_id={order['id']}").json()["results"]
    assert [c["id"] for c in listed] == [started.json()["id"]]


def test_a_dispute_conversation_is_between_its_parties(api, alpha):
    seller, buyer, _gig, order = _order(api, alpha)
    dispute_id = _dispute(alpha, order)
    assert_error(_start(user(api, alpha), "dispute", dispute_id), 404, "dispute_not_found")
    started = _start(seller, "dispute", dispute_id, "Let us settle this.")
    assert started.status_code == 201, started.content
    assert started.json()["other"]["id"] == buyer.user_id
    assert_error(_start(buyer, "dispute", order["id"]), 404, "dispute_not_found")  # an order id is no dispute


def test_direct_conversations_follow_the_policy(api, alpha):
    one, two = user(api, alpha), user(api, alpha)
    operator = api(alpha, alpha.secret_key)
    assert operator.get("/api/v1/messaging-policy").json()["allow_direct"] is True
    started = _start(one, "direct", with_user_id=two.user_id)
    assert started.status_code == 201, started.content
    assert started.json()["subject_id"] is None
    assert_error(_start(one, "direct", with_user_id=one.user_id), 400, "cannot_message_yourself")
    assert_error(_start(one, "direct", with_user_id="00000000-0000-4000-8000-000000000000"), 404, "user_not_found")

    assert_error(one.patch("/api/v1/messaging-policy", {"allow_direct": False}), 403)
    assert_error(operator.patch("/api/v1/messaging-policy", {"allow_dm": False}), 400, "validation_error")
    assert _policy(api, alpha, allow_direct=False)["allow_direct"] is False
    assert_error(_start(two, "direct", with_user_id=one.user_id), 403, "direct_messages_disabled")
    assert_error(two.post(f"{PATH}{started.json()['id']}/messages", {"body": "still there?"}), 403,
                 "direct_messages_disabled")
    assert two.get(f"{PATH}{started.json()['id']}/messages/").status_code == 200  # history stays readable
    with tenant_run(alpha.tenant):
        assert AuditRecord.objects.filter(action="messaging_policy.updated").exists()


def test_operators_read_every_conversation_and_write_in_none(api, alpha):
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    conversation = _start(buyer, "listing", product(seller, alpha)["id"], "hi").json()
    operator = api(alpha, alpha.secret_key)
    everyone = operator.get(PATH).json()["results"]
    assert conversation["id"] in [c["id"] for c in everyone]
    of_buyer = operator.get(f"{PATH}?user={buyer.user_id}").json()["results"]
    assert [c["id"] for c in of_buyer] == [conversation["id"]]
    assert of_buyer[0]["other"]["id"] == seller.user_id
    assert operator.get(f"{PATH}{conversation['id']}/messages/").json()["results"][0]["body"] == "hi"
    assert_error(operator.post(f"{PATH}{conversation['id']}/messages", {"body": "moderator here"}), 403)
    assert_error(operator.post(f"{PATH}{conversation['id']}/read"), 403)
    assert_error(operator.post(PATH, {"subject_type": "direct", "with_user_id": buyer.user_id, "body": "x"}), 403)
    assert_error(operator.get(f"{PATH}?user=nobody"), 400)


# --- unread counts, read receipts, pagination ----------------------------------------------------


def test_unread_counts_and_read_receipts(api, alpha):
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    conversation = _start(buyer, "listing", product(seller, alpha)["id"], "one").json()
    path = f"{PATH}{conversation['id']}"
    buyer.post(f"{path}/messages", {"body": "two"})
    buyer.post(f"{path}/messages", {"body": "three"})
    assert seller.get(PATH).json()["results"][0]["unread_count"] == 3
    assert buyer.get(PATH).json()["results"][0]["unread_count"] == 0
    mine = buyer.get(f"{path}/messages/").json()["results"]
    assert [m["body"] for m in mine] == ["three", "two", "one"]  # newest first
    assert not any(m["read_by_other"] for m in mine)
    assert buyer.get(f"{path}/").json()["other_last_read_at"] is None

    read = seller.post(f"{path}/read")
    assert read.status_code == 200, read.content
    assert read.json()["unread_count"] == 0
    assert all(m["read_by_other"] for m in buyer.get(f"{path}/messages/").json()["results"])
    assert buyer.get(f"{path}/").json()["other_last_read_at"] is not None

    reply = seller.post(f"{path}/messages", {"body": "thanks"})
    assert reply.status_code == 201 and reply.json()["read_by_other"] is False
    assert buyer.get(f"{path}/").json()["unread_count"] == 1
    assert seller.get(f"{path}/").json()["unread_count"] == 0  # writing reads what came before
    buyer.post(f"{path}/read")
    assert seller.get(f"{path}/messages/").json()["results"][0]["read_by_other"] is True
    # the conversation with the newest activity comes first
    other = _start(user(api, alpha), "listing", product(seller, alpha)["id"], "newer").json()
    assert [c["id"] for c in seller.get(PATH).json()["results"]][:2] == [other["id"], conversation["id"]]


def test_messages_walk_with_a_cursor(api, alpha):
    one, two = user(api, alpha), user(api, alpha)
    conversation = _start(one, "direct", with_user_id=two.user_id, body="m0").json()
    for i in range(1, 7):
        assert one.post(f"{PATH}{conversation['id']}/messages", {"body": f"m{i}"}).status_code == 201
    seen, url, pages = [], f"{PATH}{conversation['id']}/messages/?limit=3", 0
    while url:
        page = two.get(url).json()
        assert len(page["results"]) <= 3
        seen += [m["body"] for m in page["results"]]
        url = page["next"] and _path(alpha, page["next"])
        pages += 1
    assert seen == [f"m{i}" for i in range(6, -1, -1)] and pages == 3
    assert_error(two.get(f"{PATH}{conversation['id']}/messages/?cursor=bogus"), 404)


# --- attachments -------------------------------------------------------------------------------


def test_attachments_are_your_own_delivery_files(api, alpha):
    one, two = user(api, alpha, seller=True), user(api, alpha)
    mine = upload(one, "brief.pdf", purpose="delivery")
    theirs = upload(two, "theirs.pdf", purpose="delivery")
    product_file = upload(one, "book.pdf", purpose="product")
    before = _written(alpha)
    for file_ids in ([theirs], [product_file], ["00000000-0000-4000-8000-000000000000"]):
        assert_error(_start(one, "direct", with_user_id=two.user_id, file_ids=file_ids), 400, "validation_error")
    assert _written(alpha) == before
    started = _start(one, "direct", with_user_id=two.user_id, body="the brief", file_ids=[mine, mine])
    assert started.status_code == 201, started.content
    message = two.get(f"{PATH}{started.json()['id']}/messages/").json()["results"][0]
    assert [f["id"] for f in message["files"]] == [mine]
    assert message["files"][0]["name"] == "brief.pdf"
    assert_error(one.post(f"{PATH}{started.json()['id']}/messages", {"body": "x", "file_ids": [theirs]}), 400)
    assert_error(user(api, alpha).get(f"/api/v1/files/{mine}/"), 404)  # not a participant


def test_participants_may_read_attachments_by_the_files_rule(api, alpha):
    from osdm.messaging.selectors import message_file_readable

    one, two, stranger = user(api, alpha), user(api, alpha), user(api, alpha)
    mine = upload(one, "brief.pdf", purpose="delivery")
    _start(one, "direct", with_user_id=two.user_id, body="the brief", file_ids=[mine])
    with tenant_run(alpha.tenant):
        assert message_file_readable(user_id=two.user_id, file_id=mine)
        assert not message_file_readable(user_id=stranger.user_id, file_id=mine)


def test_the_recipient_downloads_an_attachment(api, alpha):
    one, two = user(api, alpha), user(api, alpha)
    mine = upload(one, "brief.pdf", purpose="delivery")
    _start(one, "direct", with_user_id=two.user_id, body="the brief", file_ids=[mine])
    assert two.get(f"/api/v1/files/{mine}/download").status_code == 200
    assert_error(user(api, alpha).get(f"/api/v1/files/{mine}/download"), 404)


# --- masking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("كلمني على ٠٥٥١٢٣٤٥٦٧ بعد العصر", f"كلمني على {PLACEHOLDER} بعد العصر"),
    ("رقمي +966 55 123 4567 واتساب", f"رقمي {PLACEHOLDER} واتساب"),
    ("جوالي 0551234567", f"جوالي {PLACEHOLDER}"),
    ("رقمي٠٥٥١٢٣٤٥٦٧", f"رقمي{PLACEHOLDER}"),
    ("+٩٦٦٥٥١٢٣٤٥٦٧", PLACEHOLDER),
    ("۰۵۵۱۲۳۴۵۶۷", PLACEHOLDER),
    ("call me on 00966 55 123 4567 or (011) 234-5678", f"call me on {PLACEHOLDER} or {PLACEHOLDER}"),
    ("UK: +44 20 7946 0958, US: (415) 555-2671", f"UK: {PLACEHOLDER}, US: {PLACEHOLDER}"),
    ("0551234567 0559876543", f"{PLACEHOLDER} {PLACEHOLDER}"),
    ("ايميلي ahmad.ali@example.sa شكرا", f"ايميلي {PLACEHOLDER} شكرا"),
    ("mail someone+tag@gmail.com.", f"mail {PLACEHOLDER}."),
    ("see https://wa.me/966551234567?text=hi, www.example.com and t.me/shop.",
     f"see {PLACEHOLDER}, {PLACEHOLDER} and {PLACEHOLDER}."),
    ("زوروا متجرنا example.com.sa/offers، شكرا", f"زوروا متجرنا {PLACEHOLDER}، شكرا"),
    # not contact details: left alone
    ("السعر 15000 ريال للطلب #10023", "السعر 15000 ريال للطلب #10023"),
    ("deliver by 2026-05-01 10:30 or 01/05/2026", "deliver by 2026-05-01 10:30 or 01/05/2026"),
    ("IBAN SA03 8000 0000 6080 1016 7519", "IBAN SA03 8000 0000 6080 1016 7519"),
    ("3 logos, 2 revisions, file.pdf e.g. this", "3 logos, 2 revisions, file.pdf e.g. this"),
])
def test_masking_rules(text, expected):
    assert mask_contact_details(text) == expected


def test_masking_follows_the_policy_at_sending_time(api, alpha):
    one, two = user(api, alpha), user(api, alpha)
    operator = api(alpha, alpha.secret_key)
    conversation = _start(one, "direct", with_user_id=two.user_id, body="my number is 0551234567").json()
    path = f"{PATH}{conversation['id']}"
    assert _policy(api, alpha, mask_contact_details=True)["mask_contact_details"] is True
    arabic = "تواصل معي على ٠٥٥١٢٣٤٥٦٧ أو ahmad@example.com"
    sent = one.post(f"{path}/messages", {"body": arabic})
    assert sent.status_code == 201
    assert sent.json()["body"] == f"تواصل معي على {PLACEHOLDER} أو {PLACEHOLDER}" and sent.json()["masked"] is True
    assert sent.json()["body_original"] is None  # not even to its sender
    one.post(f"{path}/messages", {"body": "Call +966 55 123 4567 or visit https://example.com/me"})
    one.post(f"{path}/messages", {"body": "Nothing to hide here."})
    seen = two.get(f"{path}/messages/").json()["results"]
    assert [m["body"] for m in seen] == [
        "Nothing to hide here.", f"Call {PLACEHOLDER} or visit {PLACEHOLDER}",
        f"تواصل معي على {PLACEHOLDER} أو {PLACEHOLDER}", "my number is 0551234567"]  # sent before the switch
    assert [m["masked"] for m in seen] == [False, True, True, False]
    assert all(m["body_original"] is None for m in seen)
    assert two.get(PATH).json()["results"][0]["last_message"]["preview"] == "Nothing to hide here."
    moderation = operator.get(f"{path}/messages/").json()["results"]
    assert moderation[2]["body_original"] == arabic and moderation[2]["body"] == seen[2]["body"]
    _policy(api, alpha, mask_contact_details=False)
    assert one.post(f"{path}/messages", {"body": "0551234567"}).json()["body"] == "0551234567"


# --- blocks ------------------------------------------------------------------------------------


def test_a_block_stops_messages_both_ways(api, alpha):
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    listing = product(seller, alpha)
    conversation = _start(buyer, "listing", listing["id"], "hi").json()
    path = f"{PATH}{conversation['id']}"
    blocked = seller.post("/api/v1/blocks/", {"user_id": buyer.user_id})
    assert blocked.status_code == 201, blocked.content
    assert blocked.json()["user"]["id"] == buyer.user_id
    assert seller.post("/api/v1/blocks/", {"user_id": buyer.user_id}).status_code == 200  # already
    assert [b["user"]["id"] for b in seller.get("/api/v1/blocks/").json()["results"]] == [buyer.user_id]
    assert buyer.get("/api/v1/blocks/").json()["results"] == []
    before = _written(alpha)
    assert_error(buyer.post(f"{path}/messages", {"body": "hello?"}), 403, "blocked")
    assert_error(_start(buyer, "listing", listing["id"], "hello?"), 403, "blocked")
    assert_error(_start(buyer, "direct", with_user_id=seller.user_id), 403, "blocked")
    assert_error(seller.post(f"{path}/messages", {"body": "one more thing"}), 403, "blocked")
    in_arabic = api(alpha, buyer.token, language="ar").post(f"{path}/messages", {"body": "مرحبا؟"})
    assert assert_error(in_arabic, 403, "blocked")["message"] == "هذا المستخدم لا يستقبل رسائلك."
    assert _written(alpha) == before
    assert buyer.get(f"{path}/messages/").status_code == 200  # the history stays

    assert_error(seller.post("/api/v1/blocks/", {"user_id": seller.user_id}), 400, "cannot_block_yourself")
    assert_error(seller.post("/api/v1/blocks/", {"user_id": "00000000-0000-4000-8000-000000000000"}), 404)
    assert_error(seller.delete("/api/v1/blocks/00000000-0000-4000-8000-000000000000/"), 404, "block_not_found")
    assert seller.delete(f"/api/v1/blocks/{buyer.user_id}/").status_code == 204
    assert buyer.post(f"{path}/messages", {"body": "hello again"}).status_code == 201
    with tenant_run(alpha.tenant):
        assert {"user.blocked", "user.unblocked"} <= set(AuditRecord.objects.filter(
            object_id=buyer.user_id).values_list("action", flat=True))


# --- privacy -----------------------------------------------------------------------------------


def test_strangers_and_other_marketplaces_see_nothing(api, alpha, beta):
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    conversation = _start(buyer, "listing", product(seller, alpha)["id"], "secret plans").json()
    path = f"{PATH}{conversation['id']}"
    stranger = user(api, alpha)
    for client in (stranger, api(beta, beta.secret_key), user(api, beta)):
        assert_error(client.get(f"{path}/"), 404)
        assert_error(client.get(f"{path}/messages/"), 404)
        assert client.get(PATH).json()["results"] == []
    assert_error(stranger.get(f"{path}/"), 404, "conversation_not_found")
    assert_error(stranger.post(f"{path}/messages", {"body": "let me in"}), 404)
    assert_error(stranger.post(f"{path}/read"), 404)
    assert stranger.get(f"{PATH}?user={buyer.user_id}").json()["results"] == []
    assert_error(user(api, beta).post(PATH, {"subject_type": "direct", "with_user_id": buyer.user_id,
                                             "body": "x"}), 404, "user_not_found")
    assert_error(api(alpha).get(PATH), 401)


# --- the event and the audit record ------------------------------------------------------------


def test_message_created_is_published_without_the_text(api, alpha):
    seller, buyer, _gig, order = _order(api, alpha)
    conversation = _start(buyer, "order", order["id"], "the secret is 42").json()
    reply = seller.post(f"{PATH}{conversation['id']}/messages", {"body": "noted, secret safe"}).json()
    with tenant_run(alpha.tenant):
        events = list(Event.objects.filter(type="message.created", data__conversation_id=conversation["id"])
                      .order_by("sequence"))
        audited = set(AuditRecord.objects.filter(action="message.created").values_list("object_id", flat=True))
        assert AuditRecord.objects.filter(action="conversation.started", object_id=conversation["id"]).exists()
    assert [e.data["sender_id"] for e in events] == [buyer.user_id, seller.user_id]
    assert events[1].data == {"conversation_id": conversation["id"], "message_id": reply["id"],
                              "sender_id": seller.user_id, "recipient_id": buyer.user_id, "subject_type": "order",
                              "subject_id": order["id"], "created_at": events[1].data["created_at"]}
    assert all("secret" not in str(e.data) for e in events)
    assert reply["id"] in audited
    with tenant_run(alpha.tenant):
        assert "secret" not in str(AuditRecord.objects.filter(object_id=reply["id"]).values_list("after", flat=True))


def test_a_retried_post_with_its_idempotency_key_writes_one_message(api, alpha):
    one, two = user(api, alpha), user(api, alpha)
    body = {"subject_type": "direct", "with_user_id": two.user_id, "body": "once"}
    first = one.post(PATH, body, headers={"Idempotency-Key": "start-1"})
    replay = one.post(PATH, body, headers={"Idempotency-Key": "start-1"})
    assert first.status_code == replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    path = f"{PATH}{first.json()['id']}/messages"
    sent = one.post(path, {"body": "twice?"}, headers={"Idempotency-Key": "msg-1"})
    assert one.post(path, {"body": "twice?"}, headers={"Idempotency-Key": "msg-1"}).json()["id"] == sent.json()["id"]
    assert [m["body"] for m in two.get(f"{path}/").json()["results"]] == ["twice?", "once"]


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {"subject_type": "direct", "body": "hi", "with_user_id": "{two}", "colour": "red"},
    {"subject_type": "direct", "body": "", "with_user_id": "{two}"},
    {"subject_type": "direct", "body": "   ", "with_user_id": "{two}"},
    {"subject_type": "direct", "body": "x" * 5001, "with_user_id": "{two}"},
    {"subject_type": "direct", "with_user_id": "{two}"},
    {"subject_type": "direct", "body": ["hi"], "with_user_id": "{two}"},
    {"subject_type": "direct", "body": "hi"},
    {"subject_type": "direct", "body": "hi", "with_user_id": "not-a-uuid"},
    {"subject_type": "direct", "body": "hi", "with_user_id": "{two}", "subject_id": "{listing}"},
    {"subject_type": "listing", "body": "hi"},
    {"subject_type": "listing", "body": "hi", "subject_id": "42"},
    {"subject_type": "order", "body": "hi", "subject_id": ["{listing}"]},
    {"subject_type": "dispute", "body": "hi", "subject_id": ""},
    {"subject_type": "chat", "body": "hi", "with_user_id": "{two}"},
    {"subject_type": "direct", "body": "hi", "with_user_id": "{two}", "file_ids": "abc"},
    {"subject_type": "direct", "body": "hi", "with_user_id": "{two}", "file_ids": ["x"]},
    {"subject_type": "direct", "body": "hi", "with_user_id": "{two}",
     "file_ids": [f"00000000-0000-4000-8000-0000000000{i:02}" for i in range(11)]},
])
def test_bad_conversation_input_is_a_400_and_writes_nothing(api, alpha, body):
    one, two = user(api, alpha, seller=True), user(api, alpha)
    listing = product(one, alpha)
    values = {"{two}": two.user_id, "{listing}": listing["id"]}
    body = {k: ([values.get(i, i) for i in v] if isinstance(v, list) else values.get(v, v) if isinstance(v, str)
                else v) for k, v in body.items()}
    before = _written(alpha)
    assert_error(one.post(PATH, body), 400, "validation_error")
    assert _written(alpha) == before


@pytest.mark.parametrize("body", [
    {"body": "hi", "colour": "red"},
    {"body": ""},
    {"body": " \n "},
    {"body": "x" * 5001},
    {},
    {"body": None},
    {"body": {"text": "hi"}},
    {"body": "hi", "file_ids": "abc"},
    {"body": "hi", "file_ids": [42]},
])
def test_bad_message_input_is_a_400_and_writes_nothing(api, alpha, body):
    one, two = user(api, alpha), user(api, alpha)
    conversation = _start(one, "direct", with_user_id=two.user_id).json()
    before = _written(alpha)
    assert_error(two.post(f"{PATH}{conversation['id']}/messages", body), 400, "validation_error")
    assert _written(alpha) == before
    assert one.get(f"{PATH}{conversation['id']}/").json()["unread_count"] == 0


def test_bad_filters_and_block_input(api, alpha):
    one = user(api, alpha)
    assert_error(one.get(f"{PATH}?subject_type=chat"), 400)
    assert_error(one.get(f"{PATH}?subject_id=42"), 400)
    assert_error(one.post("/api/v1/blocks/", {"user_id": "x"}), 400)
    assert_error(one.post("/api/v1/blocks/", {"user": one.user_id}), 400)
    assert_error(one.get(f"{PATH}not-a-uuid/"), 404)


# --- query counts ------------------------------------------------------------------------------


def test_lists_run_a_constant_number_of_queries(api, alpha):
    me = user(api, alpha, seller=True)
    attachment = upload(me, "a.pdf", purpose="delivery")
    first = None
    for i in range(4):
        other = user(api, alpha, seller=i % 2 == 0)
        started = _start(other, "direct", with_user_id=me.user_id, body=f"hello {i}").json()
        for _ in range(4 if first is None else 1):
            me.post(f"{PATH}{started['id']}/messages", {"body": "reply", "file_ids": [attachment]})
        other.post(f"{PATH}{started['id']}/messages", {"body": "unread"})
        first = first or started
    counts: dict[str, list[int]] = {"conversations": [], "messages": []}
    for limit in (1, 4):
        for name, url in (("conversations", f"{PATH}?limit={limit}"),
                          ("messages", f"{PATH}{first['id']}/messages/?limit={limit}")):
            with CaptureQueriesContext(connection) as ctx:
                response = me.get(url)
            assert response.status_code == 200 and len(response.json()["results"]) == limit
            counts[name].append(len(ctx.captured_queries))
    assert counts["conversations"][0] == counts["conversations"][1], counts
    assert counts["messages"][0] == counts["messages"][1], counts
    page = me.get(f"{PATH}?limit=4").json()["results"]
    assert all(c["unread_count"] == 1 for c in page)
