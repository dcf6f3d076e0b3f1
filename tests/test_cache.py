"""osdm.core.cache: Django's Redis cache with one client per pool instead of one per call."""

from concurrent.futures import ThreadPoolExecutor

from django.core.cache import cache


def test_one_client_serves_every_call_and_is_safe_across_threads():
    client = cache._cache.get_client()
    assert client is cache._cache.get_client(write=True)
    key = cache.make_and_validate_key("shared-client")
    cache.set("shared-client", 0, 60)

    def bump(_):
        for _ in range(100):
            client.incr(key)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(8)))
    assert cache.get("shared-client") == 800
    assert cache.get_many(["shared-client", "absent"]) == {"shared-client": 800}
    cache.delete("shared-client")
    assert cache.get("shared-client", "gone") == "gone"
