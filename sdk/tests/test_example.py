"""examples/storefront.py runs end to end against the live server (as it does against `make run`)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_the_storefront_example_runs(live_osdm, webhook_worker, platform_env):
    env = {**platform_env, "OSDM_PLATFORM_URL": live_osdm.platform_url, "OSDM_PLATFORM_KEY": live_osdm.platform_key}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "storefront.py")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(".", 1)[0] for line in lines if line[:1].isdigit()] == \
           ["1", "2", "3", "4", "5", "5", "6", "7"], done.stdout
    assert "user.created" in done.stdout
