"""The OpenAPI documents generate without warnings and validate, for the tenant and platform APIs."""

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("urlconf", ["osdm.urls", "osdm.urls_public"])
def test_schema_generates_without_warnings_and_validates(urlconf, tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--urlconf", urlconf, "--fail-on-warn", "--validate", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    validate(schema)
    operation_ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()
                     if isinstance(op, dict) and "operationId" in op]
    assert len(operation_ids) == len(set(operation_ids))
    assert operation_ids


def test_schema_and_docs_are_served(api, alpha):
    schema = api(alpha).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/auth/register" in schema.json()["paths"]
    docs = api(alpha).get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
