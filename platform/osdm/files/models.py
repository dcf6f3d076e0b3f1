"""Files uploaded to a marketplace: product files, delivery attachments, images.

Stored through Django's storage (local disk by default) under the tenant's own prefix,
`tenants/<schema>/<purpose>/<uuid>/<name>`, so no path is shared between marketplaces. Who may
download a file is decided by `files.selectors.file_downloadable`, never by knowing its id.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class StoredFile(models.Model):
    class Purpose(models.TextChoices):
        PRODUCT = "product", "Product file"  # downloadable by buyers who paid
        DELIVERY = "delivery", "Delivery attachment"  # visible to the order's parties
        IMAGE = "image", "Listing or profile image"  # public

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="files")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=500, unique=True)
    thumbnail_key = models.CharField(max_length=500, blank=True)  # images: a 320 px JPEG beside the original
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(purpose__in=["product", "delivery", "image"]),
                                   name="file_purpose_valid"),
            models.CheckConstraint(condition=models.Q(size__gte=0), name="file_size_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name
