"""Payments, refunds, and the marketplace's gateway configuration and method routing. Amounts are
integers in `currency`'s minor unit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._models import BaseModel

__all__ = ["GatewayConfig", "MethodRoute", "Payment", "Refund"]


class Refund(BaseModel):
    """`pending`, `succeeded` or `failed`."""

    id: str
    payment_id: str
    amount: int
    status: str = "pending"
    reason: str = ""
    gateway_refund_id: str = ""
    created_at: datetime
    completed_at: datetime | None = None


class Payment(BaseModel):
    """`pending`, `requires_action` (follow `next_action`: a redirect `url` or an OTP to `confirm`),
    `succeeded`, `failed`, `partially_refunded` or `refunded`."""

    id: str
    order_id: str
    milestone_id: str | None = None
    amount: int
    currency: str
    status: str = "pending"
    method: str = ""
    gateway: str = ""
    gateway_payment_id: str = ""
    next_action: dict[str, Any] = {}
    failure_code: str = ""
    failure_message: str = ""
    refunded_amount: int = 0
    refunds: list[Refund] = []
    created_at: datetime
    updated_at: datetime
    succeeded_at: datetime | None = None
    failed_at: datetime | None = None


class GatewayConfig(BaseModel):
    """A gateway's configuration; credentials are write-only (`credentials_set` names the ones set)."""

    gateway: str
    enabled: bool = False
    mode: str = "test"
    """`test` or `live`."""
    base_url: str = ""
    credential_fields: list[str] = []
    credentials_set: list[str] = []
    methods: list[str] = []
    updated_at: datetime | None = None


class MethodRoute(BaseModel):
    """Which gateway takes a payment method (`mada`, `visa`, `mastercard`, `applepay`, `googlepay`,
    `stcpay`, `paypal`), and the fallback when it is down."""

    method: str
    gateway: str
    fallback_gateway: str = ""
