"""Who may read a file."""

from __future__ import annotations

from django.db.models import Q

from osdm.core.errors import NotFound

from .models import StoredFile


def file_downloadable(*, principal, file_id) -> StoredFile:
    """The file, if this principal may download it; otherwise NotFound (never "forbidden but exists").

    - operators: every file of their marketplace;
    - the uploader;
    - image files: anyone;
    - product files: buyers with a paid order of a listing that delivers the file;
    - delivery attachments: the buyer and the seller of the order they were delivered in, and the two
      participants of a conversation they were sent in.
    """
    from osdm.catalog.models import ProductFile
    from osdm.orders.models import Order, OrderDelivery

    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
        raise NotFound(code="file_not_found")
    if getattr(principal, "is_operator", False) or stored.purpose == StoredFile.Purpose.IMAGE:
        return stored
    user_id = getattr(principal, "pk", None)
    if user_id is None:
        raise NotFound(code="file_not_found")
    if stored.owner_id == user_id:
        return stored
    if stored.purpose == StoredFile.Purpose.PRODUCT:
        listings = ProductFile.objects.filter(file=stored).values("listing_id")
        if Order.objects.filter(buyer_id=user_id, listing_id__in=listings,
                                status__in=Order.PAID_STATUSES).exists():
            return stored
    if stored.purpose == StoredFile.Purpose.DELIVERY:
        if OrderDelivery.objects.filter(files=stored).filter(
                Q(order__buyer_id=user_id) | Q(order__seller_id=user_id)).exists():
            return stored
        from osdm.messaging.selectors import message_file_readable

        if message_file_readable(user_id=user_id, file_id=stored.pk):
            return stored
    raise NotFound(code="file_not_found")
