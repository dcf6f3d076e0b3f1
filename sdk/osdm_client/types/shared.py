"""Types used across resources. Money is an integer amount in the currency's minor unit plus the
ISO 4217 code (halalas for SAR, fils for KWD), exactly as the API sends it: never a float."""

from __future__ import annotations

from decimal import Decimal

from .._models import BaseModel

__all__ = ["CURRENCY_EXPONENTS", "Money"]

# Minor units per currency that differ from the usual two decimals (ISO 4217).
CURRENCY_EXPONENTS: dict[str, int] = {"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3, "IQD": 3, "LYD": 3,
                                      "JPY": 0, "KRW": 0}


class Money(BaseModel):
    amount: int
    """In the currency's minor unit: 1050 SAR is 10.50 riyals, 1050 KWD is 1.050 dinars."""
    currency: str

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS.get(self.currency.upper(), 2)

    def to_decimal(self) -> Decimal:
        """The amount in major units, exact (for display; compute with `amount`)."""
        return Decimal(self.amount).scaleb(-self.exponent)

    def __str__(self) -> str:
        return f"{self.to_decimal():.{self.exponent}f} {self.currency}"
