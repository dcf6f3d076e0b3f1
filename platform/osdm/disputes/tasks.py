"""Disputes the seller left unanswered, resolved by each marketplace's rule. Run by beat."""

from celery import shared_task

from tenants.services import for_each_marketplace

from . import services


@shared_task(name="disputes.unanswered", ignore_result=True)
def unanswered() -> int:
    return for_each_marketplace(lambda tenant: services.disputes_unanswered(), name="disputes.unanswered")
