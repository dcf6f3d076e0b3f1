"""Payments of one marketplace: gateway configuration, method routing, payments, refunds, and the log
of inbound gateway callbacks.

A payment belongs to an order (a product or service order) or to one milestone of a contract. Its
status only moves forward (PAYMENT_TRANSITIONS): whatever order callbacks arrive in, a succeeded
payment never becomes failed again, and a refund is only ever added. Gateway credentials are
encrypted at rest and never leave the API in clear.
"""

from __future__ import annotations

import uuid

from django.db import models

from osdm.core.crypto import EncryptedTextField

from .gateways.base import Method


class GatewayConfig(models.Model):
    class Mode(models.TextChoices):
        TEST = "test", "Test"
        LIVE = "live", "Live"

    gateway = models.CharField(max_length=32, unique=True)
    enabled = models.BooleanField(default=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.TEST)
    credentials = EncryptedTextField(default="{}")  # JSON of the gateway's credential fields
    base_url = models.URLField(max_length=500, blank=True)  # empty: the gateway's own API for the mode
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["gateway"]

    def __str__(self) -> str:
        return self.gateway


class MethodRoute(models.Model):
    """Which gateway takes a payment method, and which one takes over when it is failing."""

    method = models.CharField(max_length=16, choices=[(m.value, m.value) for m in Method], unique=True)
    gateway = models.CharField(max_length=32)
    fallback_gateway = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["method"]

    def __str__(self) -> str:
        return f"{self.method} → {self.gateway}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # created with its order; not yet sent to a gateway, or being retried
    REQUIRES_ACTION = "requires_action", "Requires action"  # the payer must redirect / enter an OTP
    SUCCEEDED = "succeeded", "Succeeded"  # captured; the order is paid
    FAILED = "failed", "Failed"  # declined or abandoned; can be processed again
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"  # refunded in full


PAYMENT_TRANSITIONS: dict[str, set[str]] = {
    PaymentStatus.PENDING: {PaymentStatus.REQUIRES_ACTION, PaymentStatus.SUCCEEDED, PaymentStatus.FAILED},
    PaymentStatus.REQUIRES_ACTION: {PaymentStatus.PENDING, PaymentStatus.SUCCEEDED, PaymentStatus.FAILED},
    # A gateway that reports money captured after a failure wins: money is never ignored.
    PaymentStatus.FAILED: {PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.SUCCEEDED},
    PaymentStatus.SUCCEEDED: {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED},
    PaymentStatus.PARTIALLY_REFUNDED: {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED},
    PaymentStatus.REFUNDED: set(),
}


class Payment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    milestone = models.OneToOneField("orders.Milestone", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="payment")
    payer = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="payments")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    method = models.CharField(max_length=16, blank=True)
    gateway = models.CharField(max_length=32, blank=True)
    gateway_payment_id = models.CharField(max_length=200, blank=True, db_index=True)
    attempt = models.PositiveIntegerField(default=0)  # how many times it was sent to a gateway
    next_action = models.JSONField(default=dict, blank=True)
    return_url = models.URLField(max_length=1000, blank=True)
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    refunded_amount = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=PaymentStatus.values), name="payment_status_valid"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=models.Q(refunded_amount__gte=0)
                                   & models.Q(refunded_amount__lte=models.F("amount")),
                                   name="payment_refund_within_amount"),
            # One live payment per order (or per milestone): retries reuse it.
            models.UniqueConstraint(fields=["order"], condition=models.Q(milestone__isnull=True),
                                    name="payment_one_per_order"),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="payment_status_idx")]

    def __str__(self) -> str:
        return f"payment {self.pk}"

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded_amount if self.status in (
            PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED) else 0


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # asked of the gateway, not confirmed yet
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=500, blank=True)
    gateway_refund_id = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=models.Q(status__in=["pending", "succeeded", "failed"]),
                                   name="refund_status_valid"),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk}"


class GatewayCallback(models.Model):
    """Every inbound callback: verified or not, applied or duplicate. The log an operator reads when
    a payment looks wrong; the unique key is what makes a repeated callback a no-op."""

    id = models.BigAutoField(primary_key=True)
    gateway = models.CharField(max_length=32)
    dedupe_key = models.CharField(max_length=255, blank=True)
    verified = models.BooleanField(default=False)
    outcome = models.CharField(max_length=32)  # applied, duplicate, ignored, rejected, unknown_payment
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks")
    body = models.TextField(blank=True)  # truncated
    error = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["gateway", "dedupe_key"],
                                               condition=models.Q(outcome__in=["applied", "ignored"]),
                                               name="callback_dedupe_unique")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.dedupe_key}"
