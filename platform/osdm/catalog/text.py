"""Text normalisation for search, applied identically to what is indexed and to what is searched.

Arabic is written with optional diacritics (tashkeel), a stretching character (tatweel) and several
interchangeable letter forms (أ إ آ ٱ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي); people type them
inconsistently, so they are folded before PostgreSQL's `arabic` stemmer sees them. Latin text is
lower-cased and its accents removed. Arabic-Indic digits become ASCII digits.
"""

from __future__ import annotations

import re
import unicodedata

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
    "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
    "۰": "0", "۱": "1", "۲": "2", "۳": "3", "۴": "4", "۵": "5", "۶": "6", "۷": "7", "۸": "8", "۹": "9",
})
_ARABIC = re.compile("[\u0600-\u06ff]")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    text = _DIACRITICS.sub("", text or "").replace(_TATWEEL, "").translate(_FOLD)
    # Strip Latin accents (é → e) without touching Arabic letters, which NFKD would also decompose.
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in decomposed if not (unicodedata.combining(c) and not _ARABIC.match(c)))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip().lower()


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text or ""))
