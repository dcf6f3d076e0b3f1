"""The audit log: written with every state change, append-only, filterable and exportable by the
operator, never visible to another tenant."""

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction

from osdm.audit.models import AuditRecord
from tenants.services import tenant_run

from .conftest import assert_error, register

pytestmark = pytest.mark.django_db


def _new_records(market, since_id: int) -> list[AuditRecord]:
    with tenant_run(market.tenant):
        return list(AuditRecord.objects.filter(id__gt=since_id).order_by("id"))


def _last_id(market) -> int:
    with tenant_run(market.tenant):
        return AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_state_changes_are_audited_with_actor_and_request_id(api, alpha, platform):
    start = _last_id(alpha)
    body = register(api(alpha), "audited@example.com")
    user_id, token = body["user"]["id"], body["tokens"]["access"]
    api(alpha, token).patch("/api/v1/me", {"full_name": "New Name"}, headers={"X-Request-Id": "trace-audit-0001"})
    api(alpha, token).put("/api/v1/me/seller-profile", {"display_name": "Shop", "country": "SA"})
    key = api(alpha, alpha.secret_key).post("/api/v1/secret-keys/", {"name": "audit"}).json()
    platform.post(f"/platform/v1/tenants/{alpha.tenant.slug}/suspend", {"reason": "audit"})
    platform.post(f"/platform/v1/tenants/{alpha.tenant.slug}/activate")
    records = _new_records(alpha, start)
    assert [r.action for r in records] == ["user.registered", "user.updated", "seller_profile.created",
                                           "secret_key.created", "marketplace.suspended", "marketplace.activated"]
    registered, updated, profile, created_key, suspended, _ = records
    assert (registered.actor_type, registered.actor_id, registered.object_id) == ("user", user_id, user_id)
    assert "password" not in str(registered.after)
    assert updated.before["full_name"] == "Test User" and updated.after["full_name"] == "New Name"
    assert updated.request_id == "trace-audit-0001"
    assert profile.after["display_name"] == "Shop" and profile.before is None
    assert created_key.actor_type == "operator" and created_key.object_id == str(key["id"])
    assert suspended.actor_type == "platform" and suspended.after["reason"] == "audit"


def test_failed_changes_leave_no_record(api, alpha):
    start = _last_id(alpha)
    api(alpha).post("/api/v1/auth/register", {"email": "bad", "password": "x", "full_name": ""})
    token = register(api(alpha), "nochange@example.com")["tokens"]["access"]
    api(alpha, token).patch("/api/v1/me", {"password": "another-long-passphrase", "current_password": "wrong"})
    assert [r.action for r in _new_records(alpha, start)] == ["user.registered"]


def test_records_cannot_be_changed_or_deleted(alpha):
    with tenant_run(alpha.tenant):
        record = AuditRecord.objects.create(actor_type="system", action="test.append_only", object_type="t",
                                            object_id="1")
        for statement in ("UPDATE audit_auditrecord SET action = 'rewritten' WHERE id = %s",
                          "DELETE FROM audit_auditrecord WHERE id = %s"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [record.pk])
        record.refresh_from_db()
        assert record.action == "test.append_only"


def test_operators_filter_and_export_their_log_only(api, alpha, beta):
    register(api(alpha), "filtered@example.com")
    operator = api(alpha, alpha.secret_key)
    page = operator.get("/api/v1/audit-log/?action=user.registered&object_type=user").json()
    assert page["results"] and all(r["action"] == "user.registered" for r in page["results"])
    assert any(r["after"]["email"] == "filtered@example.com" for r in page["results"])
    assert api(beta, beta.secret_key).get("/api/v1/audit-log/?action=user.registered").json()["results"] == []
    assert_error(operator.get("/api/v1/audit-log/?since=not-a-date"), 400, "validation_error")
    assert_error(operator.get("/api/v1/audit-log/?actor_type=robot"), 400, "validation_error")
    assert_error(operator.get("/api/v1/audit-log/?bogus=1"), 400, "validation_error")
    exported = operator.get("/api/v1/audit-log/export?action=user.registered")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert any("filtered@example.com" in row["after"] for row in rows)
    assert {row["action"] for row in rows} == {"user.registered"}
    token = register(api(alpha), "curious@example.com")["tokens"]["access"]
    assert_error(api(alpha, token).get("/api/v1/audit-log/"), 403, "permission_denied")
