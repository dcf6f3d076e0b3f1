"""Files: types checked by content, limits, per-tenant paths, thumbnails, signed links that expire,
and who may download what."""

import io
import time

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from osdm.files.models import StoredFile
from tenants.services import tenant_run

from .conftest import assert_error
from .markets import product, upload, user
from .test_money import _pay

pytestmark = pytest.mark.django_db


def _png(size=(800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (15, 118, 110)).save(buffer, "PNG")
    return buffer.getvalue()


def _post(client, name, content, purpose):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.client.post("/api/v1/files/", {"file": SimpleUploadedFile(name, content), "purpose": purpose},
                              HTTP_HOST=client.host, HTTP_AUTHORIZATION=f"Bearer {client.token}")


def test_a_wrong_real_type_with_a_permitted_extension_is_refused(api, alpha):
    seller = user(api, alpha, seller=True)
    fake = _post(seller, "photo.png", b"%PDF-1.4 this is a pdf, not a png", "image")
    assert_error(fake, 400, "file_type_not_allowed")
    assert_error(_post(seller, "empty.png", b"", "image"), 400)
    assert_error(_post(seller, "x.png", _png(), "avatar"), 400)
    with tenant_run(alpha.tenant):
        assert not StoredFile.objects.filter(owner_id=seller.user_id).exists()


def test_images_get_dimensions_a_thumbnail_and_a_tenant_path(api, alpha):
    seller = user(api, alpha, seller=True)
    image = _post(seller, "banner.png", _png((1200, 400)), "image").json()
    assert (image["width"], image["height"], image["content_type"]) == (1200, 400, "image/png")
    with tenant_run(alpha.tenant):
        stored = StoredFile.objects.get(pk=image["id"])
        assert stored.storage_key.startswith(f"tenants/{alpha.tenant.schema_name}/image/")
        with default_storage.open(stored.thumbnail_key) as thumb, Image.open(thumb) as img:
            assert img.size == (320, 107)
    thumb = seller.get(f"/api/v1/files/{image['id']}/thumbnail")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"


def test_signed_links_work_without_credentials_until_they_expire(api, alpha, settings):
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    item = product(seller, alpha)
    file_id = item["files"][0]["id"]
    assert_error(buyer.get(f"/api/v1/files/{file_id}/link"), 404)  # an unpaid buyer gets no link
    order = buyer.post("/api/v1/orders/", {"listing_id": item["id"]}).json()
    _pay(alpha, order["payment"]["id"])
    link = buyer.get(f"/api/v1/files/{file_id}/link").json()
    path = link["url"].split(alpha.host, 1)[-1]
    anonymous = api(alpha)
    download = anonymous.get(path)
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    tampered = path.replace("signature=", "signature=x")
    assert_error(anonymous.get(tampered), 404, "link_expired_or_invalid")
    assert_error(api("beta.localhost").get(path), 404)  # bound to its marketplace
    settings.OSDM_DOWNLOAD_LINK_SECONDS = 1
    short = buyer.get(f"/api/v1/files/{file_id}/link").json()["url"].split(alpha.host, 1)[-1]
    time.sleep(2.1)
    assert_error(anonymous.get(short), 404, "link_expired_or_invalid")
    assert_error(anonymous.get(f"/api/v1/files/{file_id}/download"), 401)


def test_delivery_files_only_for_the_orders_parties(api, alpha):
    seller = user(api, alpha, seller=True)
    stranger = user(api, alpha)
    attachment = upload(seller, "work.zip", b"PK\x03\x04" + b"0" * 100, purpose="delivery")
    assert seller.get(f"/api/v1/files/{attachment}/download").status_code == 200  # its owner
    assert_error(stranger.get(f"/api/v1/files/{attachment}/download"), 404)
    assert_error(stranger.get(f"/api/v1/files/{attachment}/link"), 404)
