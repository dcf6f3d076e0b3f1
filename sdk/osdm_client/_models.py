"""The base of every response model.

Models accept fields they do not know (`extra="allow"`), so an older SDK keeps working when the API
adds a field; datetimes arrive parsed and timezone-aware; money is an integer in the currency's minor
unit next to its currency code, never a float. `_request_id` names the API request that returned the
object, for support tickets and logs.
"""

from __future__ import annotations

from typing import Any

import pydantic


class BaseModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    _request_id: str | None = pydantic.PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        # The same object fetched twice is equal, whichever request fetched it (`_request_id` differs).
        if not isinstance(other, pydantic.BaseModel):
            return NotImplemented
        return (type(self) is type(other) and self.__dict__ == other.__dict__
                and self.__pydantic_extra__ == other.__pydantic_extra__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like pydantic's own models

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-ready data (datetimes as ISO 8601 strings)."""
        return self.model_dump(mode="json")
