"""Point a marketplace's gateways at the local simulators (`make run`'s demo): every method pays
offline. Card and wallet methods go to the sandbox's hosted page (Pay / Decline); STC Pay to the STC
Pay direct simulator (OTP 123456); PayPal to the PayPal simulator; Moyasar and PayTabs are enabled
for storefronts that choose them explicitly (`"gateway": "moyasar"`, with the published test cards)."""

from __future__ import annotations

import httpx

from osdm.audit.services import Actor

from . import services
from .gateways.base import Method
from .simulators.paypal import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from .simulators.stcpay import StcpaySimulator

ACTOR = Actor.system("demo")
PAYTABS_DEMO_KEY, PAYTABS_DEMO_PROFILE = "SDJNLDMDDL-JHDRKMLDNH-GDBLTDKDBM", "87654"


def _paypal_webhook_id(base_url: str, url: str) -> str:
    """Register our callback URL with the PayPal simulator, as a merchant does in PayPal's dashboard."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        token = client.post("/v1/oauth2/token", data={"grant_type": "client_credentials"},
                            auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)).json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        for hook in client.get("/v1/notifications/webhooks", headers=headers).json().get("webhooks", []):
            if hook.get("url") == url:
                return hook["id"]
        created = client.post("/v1/notifications/webhooks", headers=headers,
                              json={"url": url, "event_types": [{"name": "*"}]})
        return created.json()["id"]


def configure_demo(*, simulators: dict[str, str], callback_url_for) -> list[str]:
    """In the current schema. `simulators`: slug → base URL; `callback_url_for(slug)` → our URL."""
    credentials = {
        "sandbox": {"secret_key": "sk_sandbox_test", "webhook_secret": "whsec_sandbox_test"},
        "moyasar": {"secret_key": "sk_test_demo", "webhook_secret": "moyasar-demo-webhook-secret"},
        "paytabs": {"server_key": PAYTABS_DEMO_KEY, "profile_id": PAYTABS_DEMO_PROFILE},
        "stcpay": {"merchant_id": StcpaySimulator.TEST_MERCHANT_ID, "client_certificate_pem": "-",
                   "client_key_pem": "-"},
    }
    if "paypal" in simulators:
        credentials["paypal"] = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
                                 "webhook_id": _paypal_webhook_id(simulators["paypal"], callback_url_for("paypal"))}
    configured = []
    for slug, values in credentials.items():
        if slug not in simulators:
            continue
        services.gateway_configure(actor=ACTOR, slug=slug, enabled=True, mode="test", credentials=values,
                                   base_url=simulators[slug])
        services.gateway_register_webhook(slug=slug, url=callback_url_for(slug))
        configured.append(slug)
    routes = {Method.STCPAY: "stcpay", Method.PAYPAL: "paypal"}
    for method in Method:
        gateway = routes.get(method, "sandbox")
        if gateway in configured:
            services.method_route_set(actor=ACTOR, method=method, gateway=gateway)
    return configured
