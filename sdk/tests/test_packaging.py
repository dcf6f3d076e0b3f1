"""The distribution: its own version, two runtime dependencies, typed, and independent of the platform."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import osdm_client


def test_it_depends_on_httpx_and_pydantic_only():
    requires = importlib.metadata.requires("osdm-client") or []
    assert sorted(r.split(">")[0].split("<")[0].split("=")[0].strip() for r in requires) == ["httpx", "pydantic"]


def test_it_is_versioned_on_its_own_and_typed():
    assert importlib.metadata.version("osdm-client") == osdm_client.__version__
    assert (Path(osdm_client.__file__).parent / "py.typed").exists()


def test_the_public_surface_is_pinned():
    assert all(hasattr(osdm_client, name) for name in osdm_client.__all__)
    assert {"OSDM", "AsyncOSDM", "OSDMPlatform", "AsyncOSDMPlatform", "webhooks", "types",
            "NotFoundError", "APIConnectionError"} <= set(osdm_client.__all__)


def test_importing_it_imports_nothing_of_the_platform():
    code = ("import sys, osdm_client, osdm_client.webhooks, osdm_client.types; "
            "bad = sorted({m.split('.')[0] for m in sys.modules} & "
            "{'django', 'rest_framework', 'osdm', 'tenants', 'webhooks', 'celery'}); print(bad)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert done.stdout.strip() == "[]"
