"""Payment fixtures: gateway simulators (real HTTP servers) and a marketplace configured to use them."""

from __future__ import annotations

import pytest

from osdm.payments.simulators.sandbox import SandboxSimulator

SANDBOX_KEY, SANDBOX_WEBHOOK_SECRET = "sk_sandbox_test", "whsec_sandbox_test"


@pytest.fixture(scope="session")
def sandbox_sim():
    sim = SandboxSimulator(secret_key=SANDBOX_KEY, webhook_secret=SANDBOX_WEBHOOK_SECRET).start()
    yield sim
    sim.stop()


@pytest.fixture
def sandbox(sandbox_sim):
    """The sandbox simulator, fresh; callbacks queued for the test to deliver (no live server here)."""
    sandbox_sim.reset()
    sandbox_sim.deliver_callbacks = False
    return sandbox_sim


def configure_sandbox(api, market, sim, *, methods=("mada", "visa", "mastercard", "applepay", "googlepay", "stcpay",
                                                    "paypal"), fallback: str = "") -> None:
    operator = api(market, market.secret_key)
    response = operator.put("/api/v1/payment-gateways/sandbox", {
        "enabled": True, "mode": "test", "base_url": sim.url,
        "credentials": {"secret_key": SANDBOX_KEY, "webhook_secret": SANDBOX_WEBHOOK_SECRET}})
    assert response.status_code == 200, response.content
    for method in methods:
        routed = operator.put(f"/api/v1/payment-methods/{method}", {"gateway": "sandbox", "fallback_gateway": fallback})
        assert routed.status_code == 200, routed.content


def deliver(api, market, sim, gateway: str = "sandbox") -> list:
    """POST every queued simulator callback to the platform, as the gateway would."""
    responses = []
    for callback in sim.pending_callbacks():
        headers = {k: v for k, v in callback.headers.items() if k.lower() != "content-type"}
        responses.append(api(market).post(f"/api/v1/payments/webhooks/{gateway}/", raw=callback.body,
                                          headers=headers))
    return responses
