"""Every operation of the live server's OpenAPI documents (tenant and platform) has an SDK method, named
after its operation id (`webhook_endpoints_rotate_secret` -> `client.webhook_endpoints.rotate_secret`),
that sends that operation's HTTP method to that operation's path, in the sync and the async client;
and every SDK method is some operation. A new endpoint without an SDK method fails here.

The schemas come from the live server; each method's request is captured by an httpx transport that
answers nothing useful (what the responses parse into is the contract tests' business).
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import re
from functools import cached_property

import httpx
import pytest

from osdm_client import OSDM, APIStatusError, AsyncOSDM, AsyncOSDMPlatform, OSDMPlatform
from osdm_client._resource import AsyncAPIResource, SyncAPIResource

METHODS = ("get", "post", "put", "patch", "delete")

# Resources the SDK does not have yet, as operation-id prefixes (`orders` covers `orders_list`,
# `orders_milestones_accept`, ...): empty, every resource has landed. A new API resource may be listed here
# while its SDK resource is being written; a prefix leaves the list when its resource lands, whole: an entry
# with any SDK method fails the test (stale), and an operation in neither the SDK nor this list fails it too.
NOT_YET_IN_THE_SDK: set[str] = set()


def _pending(operation_id: str) -> bool:
    return any(operation_id == p or operation_id.startswith(p + "_") for p in NOT_YET_IN_THE_SDK)


# Operations no SDK user calls: payment gateways call these callbacks, not a marketplace's developers.
NOT_FOR_THE_SDK = {"payments_webhooks_receive"}

# An operation whose SDK method is not named after its operation id: {"operation_id": "resource.method"}.
RENAMED: dict[str, str] = {}


def _schema(live_osdm, host: str, path: str) -> dict:
    response = httpx.get(f"http://127.0.0.1:{live_osdm.port}{path}?format=json",
                         headers={"Host": f"{host}:{live_osdm.port}"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def schemas(live_osdm, market) -> dict[str, dict]:
    return {"tenant": _schema(live_osdm, f"{market.slug}.{live_osdm.base_domain}", "/api/v1/schema/"),
            "platform": _schema(live_osdm, live_osdm.base_domain, "/platform/v1/schema/")}


def _operations(schema: dict) -> list[tuple[str, str, str]]:
    """(operation id, HTTP method, path template) of every documented operation."""
    return [(op["operationId"], method.upper(), path) for path, item in schema["paths"].items()
            for method, op in item.items() if method in METHODS]


def _resolve(client, operation_id: str):
    """The method named after an operation id: resources are matched greedily from the left."""
    if operation_id in RENAMED:
        obj = client
        for name in RENAMED[operation_id].split("."):
            obj = getattr(obj, name, None)
        return obj if inspect.ismethod(obj) else None
    tokens, obj, i = operation_id.split("_"), client, 0
    while i < len(tokens):
        for j in range(len(tokens), i, -1):
            name = "_".join(tokens[i:j])
            attr = getattr(type(obj), name, None)
            is_resource = isinstance(attr, cached_property)
            is_method = isinstance(obj, SyncAPIResource | AsyncAPIResource) and inspect.isfunction(attr)
            if is_resource or (is_method and j == len(tokens)):
                obj, i = getattr(obj, name), j
                break
        else:
            return None
    return obj if inspect.ismethod(obj) else None


def _methods(client, prefix: str = "") -> dict[str, object]:
    """Every public method of every resource of a client, by attribute path."""
    found = {}
    for name in dir(type(client)):
        attr = getattr(type(client), name, None)
        if isinstance(attr, cached_property):
            resource = getattr(client, name)
            if isinstance(resource, SyncAPIResource | AsyncAPIResource):
                found.update(_methods(resource, f"{prefix}{name}."))
        elif isinstance(client, SyncAPIResource | AsyncAPIResource) and not name.startswith("_") \
                and inspect.isfunction(attr):
            found[prefix + name] = getattr(client, name)
    return found


def _dummy(annotation: str):
    if annotation.startswith("File"):  # FileContent, FileDestination: a file object
        return io.BytesIO(b"p1")
    if "datetime" in annotation:
        return "2026-11-27T00:00:00Z"
    if annotation.startswith("int"):
        return 7
    if annotation.startswith("bool"):
        return True
    return "p1"


def _call(method, also: frozenset[str] = frozenset()) -> httpx.Request:
    """Call an SDK method with made-up required arguments (and the optional ones named in `also`);
    return the request it sent."""
    args, kwargs = [], {}
    for param in inspect.signature(method).parameters.values():
        if param.default is not inspect.Parameter.empty and param.name not in also:
            continue
        value = _dummy(str(param.annotation))
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[param.name] = value
        else:
            args.append(value)
    _SENT.clear()
    try:
        result = method(*args, **kwargs)
        if inspect.iscoroutine(result):
            asyncio.run(result)
        elif hasattr(result, "__enter__"):
            with result:
                pass
        elif hasattr(result, "__aenter__"):
            async def enter():
                async with result:
                    pass
            asyncio.run(enter())
        elif hasattr(result, "__await__"):
            async def first():
                await result
            asyncio.run(first())
    except APIStatusError:
        pass
    assert len(_SENT) == 1, f"{method.__qualname__} sent {len(_SENT)} requests"
    return _SENT[0]


_SENT: list[httpx.Request] = []


def _answer(request: httpx.Request) -> httpx.Response:
    _SENT.append(request)
    return httpx.Response(418, json={"error": {"type": "test", "code": "captured", "message": "captured"}})


def _clients():
    sync_http, async_http = httpx.Client(transport=httpx.MockTransport(_answer)), \
        httpx.AsyncClient(transport=httpx.MockTransport(_answer))
    common = {"max_retries": 0}
    return {
        "tenant": [OSDM(base_url="http://acme.localhost", api_key="sk_live_x", http_client=sync_http, **common),
                   AsyncOSDM(base_url="http://acme.localhost", api_key="sk_live_x", http_client=async_http, **common)],
        "platform": [OSDMPlatform(base_url="http://localhost", platform_key="pk", http_client=sync_http, **common),
                     AsyncOSDMPlatform(base_url="http://localhost", platform_key="pk", http_client=async_http,
                                       **common)],
    }


def _matches(template: str, path: str) -> bool:
    """`/api/v1/users/{id}/` matches `/api/v1/users/p1/`: a parameter is one path segment."""
    pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^/]+?\}", template))
    return re.fullmatch(pattern, path) is not None


@pytest.mark.parametrize("api", ["tenant", "platform"])
def test_every_operation_has_an_sdk_method_that_calls_it(schemas, api):
    operations = _operations(schemas[api])
    assert len(operations) >= 9
    missing, wrong, stale = [], [], []
    for client in _clients()[api]:
        for operation_id, http_method, template in operations:
            method = _resolve(client, operation_id)
            if operation_id in NOT_FOR_THE_SDK:
                continue
            if _pending(operation_id):
                if method is not None:
                    stale.append(operation_id)
                continue
            if method is None:
                missing.append(f"{type(client).__name__}: {operation_id} ({http_method} {template})")
                continue
            request = _call(method)
            if request.method != http_method or not _matches(template, request.url.path):
                wrong.append(f"{operation_id}: sends {request.method} {request.url.path}, "
                             f"the API has {http_method} {template}")
    assert not missing, "operations without an SDK method:\n" + "\n".join(missing)
    assert not wrong, "\n".join(wrong)
    assert not stale, f"these have SDK methods now, drop them from NOT_YET_IN_THE_SDK: {sorted(set(stale))}"


@pytest.mark.parametrize("api", ["tenant", "platform"])
def test_every_sdk_method_is_an_operation(schemas, api):
    operations = _operations(schemas[api])
    strays = []
    for client in _clients()[api]:
        for name, method in _methods(client).items():
            request = _call(method)
            if not any(request.method == m and _matches(t, request.url.path) for _, m, t in operations):
                strays.append(f"{type(client).__name__}.{name}: {request.method} {request.url.path}")
    assert not strays, "SDK methods that are no operation of the API:\n" + "\n".join(strays)


def _fields(schema: dict, node: dict) -> set[str]:
    """The property names of a request body schema (`$ref` and `allOf` followed)."""
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return set(node.get("properties", {})).union(*(_fields(schema, part) for part in node.get("allOf", [])))


def _sent_fields(request: httpx.Request) -> set[str]:
    body = request.read()
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return {name.decode() for name in re.findall(rb'Content-Disposition: form-data; name="([^"]+)"', body)}
    return set(json.loads(body or b"{}"))


@pytest.mark.parametrize("api", ["tenant", "platform"])
def test_every_request_field_is_an_argument_that_is_sent(schemas, api):
    """Each field of an operation's request body is a keyword argument of its SDK method, and given, it
    is sent under the API's name (a setting the SDK cannot set is a gap, as a missing method is)."""
    schema, missing, unsent = schemas[api], [], []
    for client in _clients()[api]:
        for item in schema["paths"].values():
            for http_method, op in item.items():
                content = op.get("requestBody", {}).get("content", {}) if http_method in METHODS else {}
                media = content.get("application/json") or content.get("multipart/form-data")
                if not media or op["operationId"] in NOT_FOR_THE_SDK or _pending(op["operationId"]):
                    continue
                method = _resolve(client, op["operationId"])
                fields = _fields(schema, media["schema"])
                absent = fields - set(inspect.signature(method).parameters)
                if absent:
                    missing.append(f"{type(client).__name__}: {op['operationId']} lacks {sorted(absent)}")
                    continue
                not_sent = fields - _sent_fields(_call(method, also=frozenset(fields)))
                if not_sent:
                    unsent.append(f"{type(client).__name__}: {op['operationId']} does not send {sorted(not_sent)}")
    assert not missing, "request fields without an SDK argument:\n" + "\n".join(missing)
    assert not unsent, "\n".join(unsent)


def test_the_matcher_itself():
    assert _matches("/api/v1/users/{id}/", "/api/v1/users/p1/")
    assert not _matches("/api/v1/users/{id}/", "/api/v1/users/p1/x/")
    assert not _matches("/api/v1/users/", "/api/v1/users/p1/")
