"""Hiding contact details in message text: e-mail addresses, links and phone numbers become
`PLACEHOLDER`, when the marketplace's policy asks for it.

Phone numbers are found in any script of decimal digits (Western, Arabic-Indic ٠-٩, Eastern
Arabic-Indic ۰-۹), with spaces, dots, dashes or parentheses between the digits. A run of digits is
a phone number when it:
- starts with `+` or `00` and has 8 to 15 digits (E.164), or
- is a Saudi number written locally: mobile `05XXXXXXXX` / `5XXXXXXXX`, landline `01X XXX XXXX`,
  unified `920XXXXXX`, or
- has 10 to 15 digits (an international number written without its `+`).
Dates (`2026-05-01`, `01/05/2026`) are left alone; so are runs longer than 15 digits (IBANs and card
numbers are not contact details), and shorter numbers (prices, quantities, order numbers).

This is a deterrent, not a guarantee: numbers spelled out in words, or split by letters, pass.
"""

from __future__ import annotations

import re
import unicodedata

PLACEHOLDER = "[hidden]"

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")

# Bare domains are recognised by a known top-level domain, so "file.pdf" or "e.g." stay.
_TLDS = ("com|net|org|info|biz|io|co|me|app|dev|xyz|online|site|store|shop|link|page|ly|gl|gg|to|tv|ai|"
         "sa|ae|eg|kw|qa|bh|om|jo|ma|tn|dz|iq|lb|uk|us|de|fr|in|pk|tr")
# A link ends before trailing punctuation: "see example.com, then" keeps its comma.
_TAIL = r"(?:\S*[^\s.,;:!?)\]}'\"«»،؛])?"
_URL = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)" + _TAIL
    + r"|(?<![a-z0-9@._-])(?:[a-z0-9-]+\.)+(?:" + _TLDS + r")\b(?:/" + _TAIL + r")?",
    re.IGNORECASE)

# Digits (any script: \d is Unicode) with up to three separators between two of them, not glued to
# a Latin letter (a code such as "SA03..." or "INV2026..."), but possibly to an Arabic word.
_SEPARATORS = "[ \t\u00a0.\\-()\u200e\u200f]"
_DIGIT_RUN = re.compile(r"(?<![\dA-Za-z_+])(?:\+[ \u00a0]?)?\(?\d(?:" + _SEPARATORS + r"{0,3}\d)+")
_DATE = re.compile(r"(?<!\d)(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})(?!\d)")
_SAUDI_LOCAL = re.compile(r"0?5\d{8}|0?1[1-7]\d{7}|920\d{6}")


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())


def _is_phone(candidate: str) -> bool:
    digits = _ascii_digits(candidate)
    if candidate.lstrip("(").startswith("+"):
        return 8 <= len(digits) <= 15
    if digits.startswith("00"):
        return 8 <= len(digits) - 2 <= 15
    return bool(_SAUDI_LOCAL.fullmatch(digits)) or 10 <= len(digits) <= 15


def _mask_run(match: re.Match) -> str:
    run = match.group(0)
    if _is_phone(run):
        return PLACEHOLDER
    # Two numbers one after the other ("0551234567 0559876543") make one run too long to be a phone:
    # try its space-separated parts, longest first from the left. Runs grouped in fours are IBANs or
    # card numbers: left whole.
    parts = re.split(r"(\s+)", run)
    tokens = parts[::2]
    if len(tokens) < 2 or all(len(_ascii_digits(token)) == 4 for token in tokens):
        return run
    out, i = [], 0
    while i < len(tokens):
        for j in range(len(tokens), i, -1):
            if _is_phone("".join(tokens[i:j])):
                out.append(PLACEHOLDER)
                i = j
                break
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)


def _mask_phones(text: str) -> str:
    pieces = _DATE.split(text)  # dates (the split's separators) are never phone numbers
    dates = _DATE.findall(text)
    out = []
    for index, piece in enumerate(pieces):
        out.append(_DIGIT_RUN.sub(_mask_run, piece))
        if index < len(dates):
            out.append(dates[index])
    return "".join(out)


def mask_contact_details(text: str) -> str:
    """The text with e-mail addresses, links and phone numbers replaced by PLACEHOLDER."""
    text = _EMAIL.sub(PLACEHOLDER, text)  # before links: an address contains a domain
    text = _URL.sub(PLACEHOLDER, text)
    return _mask_phones(text)
