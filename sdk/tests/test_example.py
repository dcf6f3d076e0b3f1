"""examples/storefront.py runs end to end against the live server, as it does against `make run`: the
same gunicorn, a real Celery worker delivering its webhooks, and the sandbox gateway simulator (a real
HTTP server) that takes the payment and calls the platform back, signed."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT


def test_the_storefront_example_sells_a_product_end_to_end(live_osdm, webhook_worker, platform_env,
                                                             sandbox_simulator):
    env = {**platform_env, "OSDM_PLATFORM_URL": live_osdm.platform_url, "OSDM_PLATFORM_KEY": live_osdm.platform_key,
           "OSDM_SANDBOX_URL": sandbox_simulator.url, "OSDM_SANDBOX_KEY": sandbox_simulator.secret_key,
           "OSDM_SANDBOX_WEBHOOK_SECRET": sandbox_simulator.webhook_secret}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "storefront.py")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    steps = [line.split(".", 1)[0] for line in out.splitlines() if line[:1].isdigit()]
    assert steps == [str(n) for n in range(1, 15)], out

    def line(step: int) -> str:
        return next(x for x in out.splitlines() if x.startswith(f"{step}. "))

    assert "products held in escrow" in line(1)
    assert "gateway sandbox (test mode" in line(2)
    assert "49.00 SAR" in line(6) and "published" in line(6)
    assert "pending_payment" in line(7)
    assert "with mada via sandbox" in line(8) and "status=paid" in line(8) and line(8).endswith("succeeded")
    # 49.00 SAR at 8 %: 3.92 SAR commission, 45.08 SAR for the seller, held then released by the buyer.
    assert "escrow held: 49.00 SAR = 45.08 SAR for the seller + 3.92 SAR commission" in line(9)
    assert "the seller sees 45.08 SAR pending" in line(9)
    assert "the buyer released it: released" in out
    assert "available 45.08 SAR, pending 0.00 SAR, owed 0.00 SAR" in line(10)
    assert re.search(r"escrow\.release\s+\+45\.08 SAR\s+posted", out), out
    assert "sha256 matches" in line(11)
    webhooks = out.split(line(12), 1)[1].split(line(13), 1)[0]
    for event_type in ("user.created", "order.paid", "payment.succeeded", "escrow.held", "escrow.released"):
        assert event_type in webhooks, out
    assert line(14).startswith("14. deleted demo-")
