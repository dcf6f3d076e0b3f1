"""osdm.core.prepared: a query compiled once answers every later call as the ORM would."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, OuterRef, Subquery, signals
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from osdm.accounts.models import SellerProfile, User
from osdm.core.prepared import Prepared, insert, save_fields
from osdm.notifications.models import Notification, NotificationPreference
from tenants.services import tenant_run


def _people(prefix: str) -> tuple[User, User]:
    buyer = User.objects.create_user(f"{prefix}-buyer@example.com", "x" * 12, full_name="Buyer")
    seller = User.objects.create_user(f"{prefix}-seller@example.com", "x" * 12, full_name="Seller")
    SellerProfile.objects.create(user=seller, display_name="بائع", country="SA")
    return buyer, seller


_active = Prepared(lambda p: User.objects.select_related("seller_profile").filter(pk=p.uuid("id"), is_active=True)[:1])


def test_rows_match_the_orm_with_select_related_and_the_same_sql(alpha):
    with tenant_run(alpha.tenant):
        buyer, seller = _people("sr")
        with CaptureQueriesContext(connection) as prepared_log:
            got_seller, got_buyer = _active.first(id=seller.pk), _active.first(id=str(buyer.pk))
        with CaptureQueriesContext(connection) as orm_log:
            want = User.objects.select_related("seller_profile").filter(pk=seller.pk, is_active=True)[:1].get()
        assert prepared_log[0]["sql"] == orm_log[0]["sql"]  # the same statement, logged like any other
        assert got_seller == want and got_seller.email == want.email and got_seller.token_version == 0
        with CaptureQueriesContext(connection) as more:
            assert got_seller.seller_profile.display_name == "بائع"  # populated, no extra query
            assert not hasattr(got_buyer, "seller_profile") or got_buyer.seller_profile is None
        assert len(more) == 0
        assert got_seller._state.db == "default" and not got_seller._state.adding  # saveable as loaded
        got_seller.full_name = "Renamed"
        got_seller.save(update_fields=["full_name"])
        assert User.objects.get(pk=seller.pk).full_name == "Renamed"
        User.objects.filter(pk=buyer.pk).update(is_active=False)
        assert _active.first(id=buyer.pk) is None  # the constant of the shape still applies
        assert _active.first(id=uuid.uuid4()) is None


def test_statements_are_prepared_once_per_session(alpha):
    with tenant_run(alpha.tenant):
        buyer, _ = _people("ps")
        for _ in range(3):
            assert _active.first(id=buyer.pk) == buyer
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                           ['%FROM "accounts_user" LEFT OUTER JOIN "accounts_sellerprofile"%'])
            assert cursor.fetchone()[0] == 1


def test_each_marketplace_sees_its_own_rows(alpha, beta):
    with tenant_run(alpha.tenant):
        mine, _ = _people("iso")
        assert _active.first(id=mine.pk) == mine
    with tenant_run(beta.tenant):
        assert _active.first(id=mine.pk) is None  # compiled in alpha, run on beta's schema
        theirs, _ = _people("iso")
        assert _active.first(id=theirs.pk) == theirs
    with tenant_run(alpha.tenant):
        assert _active.first(id=theirs.pk) is None


def test_annotations_deferred_fields_and_converters(alpha):
    pref = NotificationPreference.objects.filter(kind=OuterRef("kind"), user_id=OuterRef("user_id")).values("email")
    notes = Prepared(lambda p: Notification.objects.filter(user_id=p.uuid("user"), created_at__gte=p.datetime("since"))
                     .annotate(email_pref=Subquery(pref[:1]), n=Count("id")).only("id", "kind", "data")
                     .order_by("kind"))
    with tenant_run(alpha.tenant):
        buyer, _ = _people("an")
        since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        for kind in ("order.paid", "order.created"):
            Notification.objects.create(user=buyer, kind=kind, title="t", body="b", data={"order_id": "o-1", "n": [1]})
        NotificationPreference.objects.create(user=buyer, kind="order.paid", in_app=True, email=False)
        got = notes.all(user=buyer.pk, since=since)
        assert [(n.kind, n.email_pref, n.n, n.data) for n in got] == [
            ("order.created", None, 1, {"order_id": "o-1", "n": [1]}),  # JSON decoded by the field's converter
            ("order.paid", False, 1, {"order_id": "o-1", "n": [1]})]
        with CaptureQueriesContext(connection) as deferred:
            assert got[0].title == "t"  # a deferred field loads on access, as with the ORM
        assert len(deferred) == 1
        assert notes.all(user=buyer.pk, since=since + dt.timedelta(hours=1)) == []


def test_a_row_lock_needs_a_transaction(gamma, committed):
    """gamma: no test transaction around it, so autocommit is real."""
    locked = Prepared(lambda p: User.objects.select_for_update().filter(pk=p.uuid("id"))[:1])
    with tenant_run(gamma.tenant):
        with transaction.atomic():
            assert locked.first(id=uuid.uuid4()) is None
        with pytest.raises(TransactionManagementError):
            locked.first(id=uuid.uuid4())  # in autocommit, as the ORM refuses


def test_mistakes_fail_loudly(alpha):
    with tenant_run(alpha.tenant):
        buyer, _ = _people("bad")
        transformed = Prepared(lambda p: User.objects.filter(email__icontains=p.str("email")))
        with pytest.raises(ValueError, match="transformed"):
            transformed.all(email="bad")
        with pytest.raises(TypeError, match="expected the parameters"):
            _active.first(pk=buyer.pk)
        with pytest.raises(ValueError, match="hexadecimal UUID"):
            _active.first(id="not-a-uuid")
        twice = Prepared(lambda p: User.objects.filter(pk=p.uuid("id")).exclude(pk=p.uuid("id")))
        with pytest.raises(ValueError, match="twice"):
            twice.all(id=buyer.pk)
        prefetching = Prepared(lambda p: User.objects.prefetch_related("notifications").filter(pk=p.uuid("id")))
        with pytest.raises(ValueError, match="prefetch"):
            prefetching.all(id=buyer.pk)


def test_lists_compile_once_per_length_and_an_empty_one_sends_nothing(alpha):
    some = Prepared(lambda p: User.objects.filter(pk__in=p.uuids("ids"), full_name=p.str("name")).order_by("email"))
    with tenant_run(alpha.tenant):
        buyer, seller = _people("in")
        assert some.all(ids=[buyer.pk], name="Buyer") == [buyer]
        assert some.all(ids=[seller.pk, str(buyer.pk)], name="Buyer") == [buyer]
        assert some.all(ids=(seller.pk, buyer.pk, uuid.uuid4()), name="Seller") == [seller]
        User.objects.filter(pk=buyer.pk).update(full_name="سارة %s '; --")  # Arabic, a placeholder, a quote
        assert some.all(ids=[buyer.pk], name="سارة %s '; --") == [buyer]  # bound as a value, never as SQL
        assert some.all(ids=[buyer.pk], name="Buyer") == []
        with CaptureQueriesContext(connection) as none:
            assert some.all(ids=[], name="Buyer") == []
        assert len(none) == 0
        assert sorted(length for ((_name, length),) in some._plans) == [1, 2, 3]


# --- writes --------------------------------------------------------------------------------------


def test_inserts_write_what_save_would_and_set_generated_keys(alpha):
    from osdm.audit.models import AuditRecord

    with tenant_run(alpha.tenant):
        buyer, _ = _people("ins")
        one = AuditRecord(action="x.one", actor_type="system", object_type="order", object_id="1",
                          after={"amount": 5000, "نص": "عربي", "nested": [1, None]})
        insert(one)
        assert one.pk and not one._state.adding and one.created_at  # key from the database, auto_now_add set
        many = [AuditRecord(action=f"x.{n}", actor_type="user", object_type="order", object_id=str(n)) for n in range(3)]
        with CaptureQueriesContext(connection) as log:
            insert(*many)
        assert len(log) == 1 and [r.pk for r in many] == sorted(r.pk for r in many) and many[0].pk > one.pk
        assert AuditRecord.objects.get(pk=one.pk).after == {"amount": 5000, "نص": "عربي", "nested": [1, None]}
        assert list(AuditRecord.objects.filter(pk__in=[r.pk for r in many]).order_by("pk")
                    .values_list("action", "object_id", "before")) == [("x.0", "0", None), ("x.1", "1", None),
                                                                       ("x.2", "2", None)]
        note = Notification(user=buyer, kind="k", title="t", body="b", data={"id": "o"}, email_pending=True)
        insert(note)  # a key made in Python (UUID) is written as it is
        assert Notification.objects.get(pk=note.pk).email_pending is True


def test_a_duplicate_insert_raises_djangos_integrity_error_and_writes_nothing(alpha):
    from django.db import IntegrityError

    from osdm.payments.models import GatewayCallback

    with tenant_run(alpha.tenant):
        insert(GatewayCallback(gateway="sandbox", dedupe_key="evt-1", outcome="applied"))
        with pytest.raises(IntegrityError), transaction.atomic():
            insert(GatewayCallback(gateway="sandbox", dedupe_key="evt-1", outcome="applied"))
        assert GatewayCallback.objects.filter(dedupe_key="evt-1").count() == 1


def test_save_fields_updates_just_those_fields_as_save_would(alpha):
    with tenant_run(alpha.tenant):
        buyer, _ = _people("upd")
        stale = User.objects.get(pk=buyer.pk)
        buyer.full_name, buyer.locale = "Renamed", "en"
        before = buyer.updated_at
        with CaptureQueriesContext(connection) as log:
            save_fields(buyer, ["full_name", "updated_at"])
        assert len(log) == 1 and log[0]["sql"].startswith('UPDATE "accounts_user" SET "full_name" = ')
        fresh = User.objects.get(pk=buyer.pk)
        assert (fresh.full_name, fresh.locale) == ("Renamed", stale.locale)  # locale was not in the list
        assert fresh.updated_at > before and fresh.updated_at == buyer.updated_at  # auto_now, as save() does
        User.objects.filter(pk=buyer.pk).delete()
        with pytest.raises(DatabaseError, match="did not affect any rows"):
            save_fields(buyer, ["full_name"])


def test_models_with_their_own_save_logic_or_expressions_go_through_django(alpha):
    from django.db.models import F

    from osdm.audit.models import AuditRecord

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    signals.post_save.connect(receiver, sender=AuditRecord, dispatch_uid="test-prepared-receiver")
    try:
        with tenant_run(alpha.tenant):
            record = AuditRecord(action="x.signal", actor_type="system", object_type="o", object_id="1")
            insert(record)
            assert seen == [record.pk]  # the receiver ran: Django saved it
    finally:
        signals.post_save.disconnect(sender=AuditRecord, dispatch_uid="test-prepared-receiver")
    with tenant_run(alpha.tenant):
        buyer, _ = _people("expr")
        buyer.token_version = F("token_version") + 1
        save_fields(buyer, ["token_version"])
        assert User.objects.get(pk=buyer.pk).token_version == 1
