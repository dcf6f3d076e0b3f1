"""The payout follow-up job: run by beat, visits every marketplace."""

from celery import shared_task

from tenants.services import for_each_marketplace

from . import services


@shared_task(name="payouts.sync", ignore_result=True)
def sync() -> int:
    """Send approved withdrawals an earlier attempt left unsent, and apply what the gateway says about
    the sent ones (paid, failed, returned)."""
    return for_each_marketplace(lambda tenant: services.withdrawals_sync(), name="payouts.sync")
