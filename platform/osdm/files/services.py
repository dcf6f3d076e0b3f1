"""Uploading files: size and type limits checked on the content, not the name."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid

import filetype
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils.translation import gettext as _

from osdm.audit.services import Actor, audit_record
from osdm.core.errors import ValidationFailed

from .models import StoredFile

# What each purpose accepts, by detected content type. Text-like formats have no magic number, so
# they are accepted by extension only when the content is valid UTF-8 text (see _sniff).
ALLOWED = {
    StoredFile.Purpose.IMAGE: {"image/jpeg", "image/png", "image/webp", "image/gif"},
    StoredFile.Purpose.PRODUCT: None,  # any type: digital goods are of every kind; size still applies
    StoredFile.Purpose.DELIVERY: None,
}
TEXT_TYPES = {".txt": "text/plain", ".csv": "text/csv", ".md": "text/markdown", ".json": "application/json",
              ".svg": "image/svg+xml", ".html": "text/html", ".css": "text/css", ".js": "text/javascript"}
_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


def _safe_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .") or "file"
    return name[:200]


def _sniff(head: bytes, name: str) -> str:
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    try:
        head.decode("utf-8")
        is_text = b"\x00" not in head
    except UnicodeDecodeError:
        is_text = False
    if is_text:
        return TEXT_TYPES.get(extension, "text/plain")
    return "application/octet-stream"


THUMBNAIL_SIZE = (320, 320)


def _image_facts(upload) -> dict | None:
    """Width, height and a JPEG thumbnail, or None when Pillow cannot read the image."""
    from io import BytesIO

    from django.core.files.base import ContentFile
    from PIL import Image, UnidentifiedImageError

    try:
        upload.seek(0)
        with Image.open(upload) as img:
            img.load()
            width, height = img.size
            thumb = img.convert("RGB")
            thumb.thumbnail(THUMBNAIL_SIZE)
            buffer = BytesIO()
            thumb.save(buffer, "JPEG", quality=82)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)
    return {"width": width, "height": height, "thumbnail": ContentFile(buffer.getvalue())}


def file_upload(*, actor: Actor, owner, upload, purpose: str) -> StoredFile:
    limit = settings.OSDM_MAX_UPLOAD_BYTES if purpose != StoredFile.Purpose.IMAGE else settings.OSDM_MAX_IMAGE_BYTES
    if upload.size > limit:
        raise ValidationFailed(_("The file is larger than %(limit)s bytes.") % {"limit": limit},
                               code="file_too_large", fields={"file": [_("Too large.")]})
    if upload.size == 0:
        raise ValidationFailed(_("The file is empty."), code="file_empty", fields={"file": [_("Empty.")]})
    name = _safe_name(upload.name or "file")
    head = upload.read(8192)
    upload.seek(0)
    content_type = _sniff(head, name)
    allowed = ALLOWED[purpose]
    if allowed is not None and content_type not in allowed:
        raise ValidationFailed(_("This kind of file is not accepted here."), code="file_type_not_allowed",
                               fields={"file": [_("Not an accepted type (detected %(type)s).") % {"type": content_type}]})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    file_id = uuid.uuid4()
    key = f"tenants/{connection.schema_name}/{purpose}/{file_id}/{name}"
    image = _image_facts(upload) if content_type.startswith("image/") and content_type != "image/svg+xml" else None
    if purpose == StoredFile.Purpose.IMAGE and image is None:
        raise ValidationFailed(_("This image cannot be read."), code="file_type_not_allowed",
                               fields={"file": [_("Not a readable image.")]})
    stored_key = default_storage.save(key, File(upload))
    thumbnail_key = ""
    if image is not None:
        thumbnail_key = default_storage.save(f"{key}.thumb.jpg", image["thumbnail"])
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                id=file_id, owner=owner, purpose=purpose, name=name, content_type=content_type, size=upload.size,
                sha256=digest.hexdigest(), storage_key=stored_key, thumbnail_key=thumbnail_key,
                width=image["width"] if image else None, height=image["height"] if image else None)
            audit_record(actor=actor, action="file.uploaded", object_type="file", object_id=stored.id,
                         after={"name": name, "purpose": purpose, "size": upload.size, "content_type": content_type})
    except Exception:
        default_storage.delete(stored_key)  # no orphan on disk when the row is not written
        if thumbnail_key:
            default_storage.delete(thumbnail_key)
        raise
    return stored
