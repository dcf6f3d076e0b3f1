"""Saudi IBANs: normalising, validating (ISO 13616 mod-97 and the Saudi format) and naming the bank.

The Saudi IBAN (SAMA / SARIE national standard, SWIFT IBAN registry) is 24 characters:
`SA` + 2 check digits + a 2-digit bank identifier (SAMA's cheque clearing code) + an 18-character
basic account number, zero-padded on the left; electronically one string, no spaces. Example from
the registry: SA03 8000 0000 6080 1016 7519 (bank 80, Al Rajhi Bank).

A valid checksum proves the number was not mistyped, not that the account exists or belongs to the
holder named with it: the bank says that when it pays or returns the transfer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# SAMA bank identifiers (the two digits after the check digits). Merged banks keep their old codes:
# Samba (40) is now part of SNB, Alawwal (50) part of SAB. A valid IBAN of a bank not listed here is
# still accepted (new licences, digital banks), with an empty bank name.
SAUDI_BANKS: dict[str, str] = {
    "05": "Alinma Bank",
    "10": "Saudi National Bank",
    "15": "Bank AlBilad",
    "20": "Riyad Bank",
    "30": "Arab National Bank",
    "40": "Saudi National Bank (formerly Samba)",
    "45": "Saudi Awwal Bank",
    "50": "Saudi Awwal Bank (formerly Alawwal)",
    "55": "Banque Saudi Fransi",
    "60": "Bank AlJazira",
    "65": "Saudi Investment Bank",
    "71": "National Bank of Bahrain",
    "75": "National Bank of Kuwait",
    "76": "Bank Muscat",
    "80": "Al Rajhi Bank",
    "81": "Deutsche Bank",
    "82": "National Bank of Pakistan",
    "84": "T.C. Ziraat Bankası",
    "85": "BNP Paribas",
    "86": "JPMorgan Chase Bank",
    "90": "Gulf International Bank",
    "95": "Emirates NBD",
}

_SAUDI = re.compile(r"^SA\d{2}(\d{2})[0-9A-Z]{18}$")


class InvalidIban(ValueError):
    """Why the IBAN is refused, as a short machine code (`args[0]`) and a message (`args[1]`)."""

    @property
    def code(self) -> str:
        return self.args[0]

    @property
    def message(self) -> str:
        return str(self.args[1])


@dataclass(frozen=True)
class SaudiIban:
    iban: str  # electronic format: uppercase, no spaces
    bank_code: str
    bank_name: str  # "" when the code is not in SAUDI_BANKS

    @property
    def account(self) -> str:
        return self.iban[6:]

    @property
    def printed(self) -> str:
        return " ".join(self.iban[i:i + 4] for i in range(0, len(self.iban), 4))


def normalise(value: str) -> str:
    """Spaces and dashes out, letters up: how people write an IBAN → its electronic format."""
    return re.sub(r"[\s\-]", "", str(value or "")).upper()


def mod97(iban: str) -> int:
    """ISO 13616 / ISO 7064 MOD 97-10 over the IBAN: the first four characters moved to the end,
    letters as 10..35. A valid IBAN gives 1."""
    rearranged = iban[4:] + iban[:4]
    remainder = 0
    for char in rearranged:
        # Piecewise, so a 30-odd digit number never has to be built.
        for digit in str(int(char, 36)):
            remainder = (remainder * 10 + int(digit)) % 97
    return remainder


def parse_saudi(value: str) -> SaudiIban:
    iban = normalise(value)
    if not re.fullmatch(r"[0-9A-Z]+", iban or "-"):
        raise InvalidIban("iban_invalid_characters", _("An IBAN has only letters and digits."))
    if not iban.startswith("SA"):
        raise InvalidIban("iban_not_saudi", _("Only Saudi IBANs (starting with SA) are accepted."))
    if len(iban) != 24:
        raise InvalidIban("iban_invalid_length", _("A Saudi IBAN has 24 characters."))
    match = _SAUDI.match(iban)
    if match is None:
        raise InvalidIban("iban_invalid_format", _("A Saudi IBAN is SA, 2 check digits, a 2-digit bank code and "
                                                   "an 18-character account number."))
    if mod97(iban) != 1:
        raise InvalidIban("iban_invalid_checksum", _("This IBAN's check digits are wrong: check it for typos."))
    bank_code = match.group(1)
    return SaudiIban(iban=iban, bank_code=bank_code, bank_name=SAUDI_BANKS.get(bank_code, ""))


def is_valid_saudi(value: str) -> bool:
    try:
        parse_saudi(value)
    except InvalidIban:
        return False
    return True


def check_digits(country: str, bban: str) -> str:
    """The two check digits for a BBAN (for building test data; banks issue the real ones)."""
    return f"{98 - mod97(country + '00' + bban):02d}"
