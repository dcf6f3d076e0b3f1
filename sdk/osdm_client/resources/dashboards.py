"""`client.dashboards`: figures for a buyer, a seller, or the whole marketplace (operator), over a
`period` (`day`, `week`, `month`) between `from_` and `to` (ISO dates)."""

from __future__ import annotations

from datetime import date
from typing import Any

from .._resource import AsyncAPIResource, SyncAPIResource
from .._types import NOT_GIVEN, NotGiven
from ..types import Dashboard

__all__ = ["AsyncDashboards", "Dashboards"]

PATH = "/api/v1/dashboards/"


def _params(from_: date | str | NotGiven, to: date | str | NotGiven, period: str | NotGiven,
            market: str | NotGiven) -> dict[str, Any]:
    return {"from": from_, "to": to, "period": period, "market": market}


class Dashboards(SyncAPIResource):
    def buyer(self, *, from_: date | str | NotGiven = NOT_GIVEN, to: date | str | NotGiven = NOT_GIVEN,
              period: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN) -> Dashboard:
        """Your spending as a buyer."""
        return self._client.get(f"{PATH}buyer", Dashboard, params=_params(from_, to, period, market))

    def seller(self, *, from_: date | str | NotGiven = NOT_GIVEN, to: date | str | NotGiven = NOT_GIVEN,
               period: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN) -> Dashboard:
        """Your sales and earnings as a seller."""
        return self._client.get(f"{PATH}seller", Dashboard, params=_params(from_, to, period, market))

    def overview(self, *, from_: date | str | NotGiven = NOT_GIVEN, to: date | str | NotGiven = NOT_GIVEN,
                 period: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN) -> Dashboard:
        """The marketplace's figures (operator)."""
        return self._client.get(f"{PATH}overview", Dashboard, params=_params(from_, to, period, market))


class AsyncDashboards(AsyncAPIResource):
    async def buyer(self, *, from_: date | str | NotGiven = NOT_GIVEN, to: date | str | NotGiven = NOT_GIVEN,
                    period: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN) -> Dashboard:
        """Your spending as a buyer."""
        return await self._client.get(f"{PATH}buyer", Dashboard, params=_params(from_, to, period, market))

    async def seller(self, *, from_: date | str | NotGiven = NOT_GIVEN, to: date | str | NotGiven = NOT_GIVEN,
                     period: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN) -> Dashboard:
        """Your sales and earnings as a seller."""
        return await self._client.get(f"{PATH}seller", Dashboard, params=_params(from_, to, period, market))

    async def overview(self, *, from_: date | str | NotGiven = NOT_GIVEN, to: date | str | NotGiven = NOT_GIVEN,
                       period: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN) -> Dashboard:
        """The marketplace's figures (operator)."""
        return await self._client.get(f"{PATH}overview", Dashboard, params=_params(from_, to, period, market))
